#include "hubfs/hubs/hf/hf_api.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <tuple>

#include "hubfs/core/names.h"

namespace hubfs::hubs::hf {
namespace {

using json = nlohmann::json;

bool IsRepoChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; nullopt for a malformed escape or a decoded control character.
std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  if (HasControlChars(out)) return std::nullopt;
  return out;
}

// A revision as hubfs accepts it: a branch, tag or commit name git would take, without control
// characters, "..", a leading '-' or '/', or a trailing '/'.
bool IsValidRevision(std::string_view rev) {
  if (rev.empty() || rev.size() > 255 || HasControlChars(rev)) return false;
  if (rev.front() == '-' || rev.front() == '/' || rev.back() == '/') return false;
  if (rev.find("..") != std::string_view::npos || rev.find("//") != std::string_view::npos) return false;
  for (char c : rev) {
    if (c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' || c == '[' || c == '\\') return false;
  }
  return true;
}

}  // namespace

std::string RepoRef::ApiPath() const { return (type == RepoType::kDataset ? "datasets/" : "models/") + id; }
std::string RepoRef::FilePrefix() const { return type == RepoType::kDataset ? "datasets/" : ""; }
bool RepoRef::operator<(const RepoRef& o) const {
  return std::tie(type, id, revision) < std::tie(o.type, o.id, o.revision);
}
bool RepoRef::operator==(const RepoRef& o) const {
  return type == o.type && id == o.id && revision == o.revision;
}

bool IsValidRepoPart(std::string_view part) {
  if (part.empty() || part.size() > 96) return false;
  for (char c : part) {
    if (!IsRepoChar(c)) return false;
  }
  if (part.front() == '-' || part.front() == '.' || part.back() == '-' || part.back() == '.') return false;
  return part.find("--") == std::string_view::npos && part.find("..") == std::string_view::npos;
}

bool IsCommitId(std::string_view revision) {
  if (revision.size() != 40) return false;
  for (char c : revision) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::optional<RepoFolder> ParseRepoFolder(std::string_view folder) {
  RepoFolder out;
  const size_t at = folder.find('@');
  out.name = std::string(folder.substr(0, at));
  if (!IsValidRepoPart(out.name)) return std::nullopt;
  if (at == std::string_view::npos) return out;
  auto revision = PercentDecode(folder.substr(at + 1));
  if (!revision || !IsValidRevision(*revision)) return std::nullopt;
  out.revision = std::move(*revision);
  return out;
}

std::string RepoFolderName(std::string_view name, std::string_view revision) {
  if (revision.empty()) return std::string(name);
  // '/' cannot be in a file name; '%' must round-trip.
  std::string encoded;
  for (char c : revision) {
    if (c == '/') encoded += "%2F";
    else if (c == '%') encoded += "%25";
    else encoded.push_back(c);
  }
  return std::string(name) + "@" + encoded;
}

Result<RepoRef> ParseRepoSpec(std::string_view spec) {
  RepoRef repo;
  std::string_view rest = spec;
  if (rest.rfind("datasets/", 0) == 0) {
    repo.type = RepoType::kDataset;
    rest.remove_prefix(9);
  } else if (rest.rfind("models/", 0) == 0) {
    rest.remove_prefix(7);
  }
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return Status::InvalidArgument("'" + std::string(spec) + "' is not a repo id: use org/name or datasets/org/name");
  }
  const std::string_view org = rest.substr(0, slash);
  auto folder = ParseRepoFolder(rest.substr(slash + 1));
  if (!IsValidRepoPart(org) || !folder) {
    return Status::InvalidArgument("'" + std::string(spec) +
                                   "' is not a repo id: names are letters, digits, '-', '_' and '.', "
                                   "optionally followed by @revision");
  }
  repo.id = std::string(org) + "/" + folder->name;
  repo.revision = folder->revision;
  return repo;
}

std::string PercentEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

Result<TreePage> ParseTreePage(std::string_view text) {
  json doc = json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::DataLoss("the tree listing is not JSON");
  if (!doc.is_array()) return Status::DataLoss("the tree listing is not a JSON array");
  TreePage page;
  for (const json& e : doc) {
    auto skip = [&](const std::string& why) {
      page.skipped.push_back((e.is_object() && e.contains("path") && e["path"].is_string()
                                  ? e["path"].get<std::string>()
                                  : std::string("(entry)")) + ": " + why);
    };
    if (!e.is_object()) {
      skip("not an object");
      continue;
    }
    auto type = e.find("type"), path = e.find("path");
    if (type == e.end() || !type->is_string() || path == e.end() || !path->is_string()) {
      skip("no string 'type' and 'path'");
      continue;
    }
    TreeEntry entry;
    entry.path = path->get<std::string>();
    const std::string& kind = type->get_ref<const std::string&>();
    if (kind == "directory") {
      entry.directory = true;
      page.entries.push_back(std::move(entry));
      continue;
    }
    if (kind != "file") {
      skip("type '" + kind + "' is neither a file nor a directory");
      continue;
    }
    auto size = e.find("size");
    if (size == e.end() || !size->is_number_unsigned()) {
      skip("no non-negative integer 'size'");
      continue;
    }
    entry.size = size->get<uint64_t>();
    if (auto oid = e.find("oid"); oid != e.end() && oid->is_string()) {
      entry.blob_id = GitBlobIdFromHex(oid->get_ref<const std::string&>());
    }
    if (auto lfs = e.find("lfs"); lfs != e.end() && !lfs->is_null()) {
      auto lfs_oid = lfs->is_object() ? lfs->find("oid") : lfs->end();
      if (lfs_oid == lfs->end() || !lfs_oid->is_string()) {
        skip("'lfs' has no string 'oid'");
        continue;
      }
      entry.lfs_sha256 = DigestFromHex(lfs_oid->get_ref<const std::string&>());
      if (!entry.lfs_sha256) {
        skip("lfs.oid is not 64 hex digits");
        continue;
      }
      if (auto lfs_size = lfs->find("size"); lfs_size != lfs->end() && lfs_size->is_number_unsigned() &&
                                             lfs_size->get<uint64_t>() != entry.size) {
        skip("lfs.size differs from size");
        continue;
      }
    }
    page.entries.push_back(std::move(entry));
  }
  return page;
}

Result<std::string> ParseRepoInfoCommit(std::string_view text) {
  json doc = json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Status::DataLoss("the repo info is not a JSON object");
  auto sha = doc.find("sha");
  if (sha == doc.end() || !sha->is_string() || !IsCommitId(sha->get_ref<const std::string&>())) {
    return Status::DataLoss("the repo info has no 40-hex 'sha'");
  }
  return sha->get<std::string>();
}

std::optional<std::string> NextLink(std::string_view header) {
  // link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param ), values separated by ','.
  size_t pos = 0;
  while (pos < header.size()) {
    const size_t open = header.find('<', pos);
    if (open == std::string_view::npos) return std::nullopt;
    const size_t close = header.find('>', open + 1);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view url = header.substr(open + 1, close - open - 1);
    size_t end = header.find('<', close + 1);  // params run to the next link-value
    if (end == std::string_view::npos) end = header.size();
    std::string params(header.substr(close + 1, end - close - 1));
    for (char& c : params) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // rel="next", rel=next, or rel="prev next" (a space-separated list).
    for (size_t r = params.find("rel"); r != std::string::npos; r = params.find("rel", r + 3)) {
      size_t v = r + 3;
      while (v < params.size() && params[v] == ' ') ++v;
      if (v >= params.size() || params[v] != '=') continue;
      ++v;
      while (v < params.size() && params[v] == ' ') ++v;
      std::string value;
      if (v < params.size() && params[v] == '"') {
        const size_t q = params.find('"', v + 1);
        value = params.substr(v + 1, q == std::string::npos ? std::string::npos : q - v - 1);
      } else {
        const size_t stop = params.find_first_of(";, ", v);
        value = params.substr(v, stop == std::string::npos ? std::string::npos : stop - v);
      }
      size_t word = 0;
      while (word < value.size()) {
        size_t space = value.find(' ', word);
        if (space == std::string::npos) space = value.size();
        if (value.compare(word, space - word, "next") == 0 && !url.empty() && !HasControlChars(url)) {
          return std::string(url);
        }
        word = space + 1;
      }
    }
    pos = end;
  }
  return std::nullopt;
}

std::string NormalizeEtag(std::string_view etag) {
  if (etag.rfind("W/", 0) == 0) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

std::string RepoInfoUrl(std::string_view endpoint, const RepoRef& repo) {
  std::string url = std::string(endpoint) + "/api/" + repo.ApiPath();
  if (!repo.revision.empty()) url += "/revision/" + PercentEncode(repo.revision, false);
  return url;
}

std::string TreeUrl(std::string_view endpoint, const RepoRef& repo, std::string_view commit) {
  return std::string(endpoint) + "/api/" + repo.ApiPath() + "/tree/" + PercentEncode(commit, false) +
         "?recursive=true&expand=false";
}

std::string ResolveUrl(std::string_view endpoint, const RepoRef& repo, std::string_view commit,
                       std::string_view path) {
  return std::string(endpoint) + "/" + repo.FilePrefix() + repo.id + "/resolve/" + PercentEncode(commit, false) +
         "/" + PercentEncode(path, true);
}

}  // namespace hubfs::hubs::hf
