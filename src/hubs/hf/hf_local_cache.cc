#include "hubfs/hubs/hf/hf_local_cache.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "hubfs/core/logging.h"

namespace hubfs::hubs::hf {
namespace {

namespace fsys = std::filesystem;
using json = nlohmann::json;

// Small text files only (refs, trees/*.json): refuse anything huge a hostile cache might hold.
constexpr uintmax_t kMaxMetadataBytes = 64ull << 20;

std::optional<std::string> ReadSmallFile(const fsys::path& path) {
  std::error_code ec;
  if (!fsys::is_regular_file(path, ec)) return std::nullopt;
  const uintmax_t size = fsys::file_size(path, ec);
  if (ec || size > kMaxMetadataBytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int64_t MtimeOf(const fsys::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec);
}

// True when `inner` (canonical) is `outer` (canonical) or below it.
bool IsWithin(const fsys::path& inner, const fsys::path& outer) {
  auto o = outer.begin(), i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

// trees/{commit}.json (format_version 1); nullopt when absent, unreadable or of another version.
std::optional<std::vector<TreeEntry>> ReadTreeCache(const fsys::path& path) {
  auto text = ReadSmallFile(path);
  if (!text) return std::nullopt;
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return std::nullopt;
  auto version = doc.find("format_version");
  auto files = doc.find("files");
  if (version == doc.end() || *version != 1 || files == doc.end() || !files->is_object()) return std::nullopt;
  std::vector<TreeEntry> out;
  for (const auto& [path_in_repo, meta] : files->items()) {
    if (!meta.is_object()) continue;
    TreeEntry e;
    e.path = path_in_repo;
    auto size = meta.find("size");
    if (size == meta.end() || !size->is_number_unsigned()) continue;
    e.size = size->get<uint64_t>();
    if (auto id = meta.find("blob_id"); id != meta.end() && id->is_string()) {
      e.blob_id = GitBlobIdFromHex(id->get_ref<const std::string&>());
    }
    if (auto sha = meta.find("lfs_sha256"); sha != meta.end() && sha->is_string()) {
      e.lfs_sha256 = DigestFromHex(sha->get_ref<const std::string&>());
      if (!e.lfs_sha256) continue;
      if (auto lfs_size = meta.find("lfs_size"); lfs_size != meta.end() && lfs_size->is_number_unsigned()) {
        e.size = lfs_size->get<uint64_t>();
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::string HfLocalCache::RepoFolder(const RepoRef& repo) const {
  std::string folder = repo.type == RepoType::kDataset ? "datasets--" : "models--";
  for (char c : repo.id) {
    if (c == '/') folder += "--";
    else folder.push_back(c);
  }
  return root_ + "/" + folder;
}

std::optional<HfLocalCache::Ref> HfLocalCache::Resolve(const RepoRef& repo) const {
  if (root_.empty()) return std::nullopt;
  const fsys::path folder = RepoFolder(repo);
  const std::string revision = repo.revision.empty() ? "main" : repo.revision;
  std::error_code ec;
  if (IsCommitId(revision)) {
    if (!fsys::is_directory(folder / "snapshots" / revision, ec)) return std::nullopt;
    return Ref{revision, MtimeOf(folder / "snapshots" / revision)};
  }
  // refs/{revision}: revision may hold '/' (refs/pr/1), never '..' (ParseRepoFolder).
  const fsys::path ref = folder / "refs" / revision;
  auto text = ReadSmallFile(ref);
  if (!text) return std::nullopt;
  std::string commit = *text;
  while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r' || commit.back() == ' ')) commit.pop_back();
  if (!IsCommitId(commit)) {
    HUBFS_LOG_WARN("HF cache: {} does not hold a commit id; ignored", ref.string());
    return std::nullopt;
  }
  return Ref{commit, MtimeOf(ref)};
}

std::optional<HfLocalCache::Snapshot> HfLocalCache::Read(const RepoRef& repo, const std::string& commit) const {
  if (root_.empty() || !IsCommitId(commit)) return std::nullopt;
  std::error_code ec;
  const fsys::path folder = RepoFolder(repo);
  const fsys::path canonical_folder = fsys::canonical(folder, ec);
  if (ec) return std::nullopt;
  const fsys::path snapshot = folder / "snapshots" / commit;
  Snapshot out;
  if (auto files = ReadTreeCache(folder / "trees" / (commit + ".json"))) {
    out.files = std::move(*files);
    out.complete = true;
  }
  std::map<std::string, TreeEntry> found;  // from the snapshot folder, when there is no tree cache
  if (fsys::is_directory(snapshot, ec)) {
    fsys::recursive_directory_iterator it(snapshot, fsys::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      const fsys::path& p = it->path();
      if (it->is_symlink(ec) && !fsys::exists(p, ec)) continue;  // dangling: not downloaded
      if (!fsys::is_regular_file(p, ec)) continue;               // folders (followed links included)
      const fsys::path target = fsys::canonical(p, ec);
      if (ec || !IsWithin(target, canonical_folder)) continue;   // never anything outside the repo
      const std::string name = target.filename().string();
      if (name.size() > 11 && name.ends_with(".incomplete")) continue;
      const std::string repo_path = fsys::relative(p, snapshot, ec).generic_string();
      if (ec || repo_path.empty()) continue;
      out.local[repo_path] = target.string();
      TreeEntry e;
      e.path = repo_path;
      e.size = fsys::file_size(target, ec);
      if (ec) continue;
      // A link's target is named by its etag: the content's identity, checked when it is read.
      if (fsys::is_symlink(p)) {
        e.lfs_sha256 = DigestFromHex(name);
        if (!e.lfs_sha256) e.blob_id = GitBlobIdFromHex(name);
      }
      found[repo_path] = std::move(e);
    }
  }
  const fsys::path no_exist = folder / ".no_exist" / commit;
  if (fsys::is_directory(no_exist, ec)) {
    fsys::recursive_directory_iterator it(no_exist, fsys::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec)) out.absent.insert(fsys::relative(it->path(), no_exist, ec).generic_string());
    }
  }
  if (!out.complete) {
    for (auto& [path, entry] : found) out.files.push_back(std::move(entry));
  } else {
    // A tree cache lists files by their published ids; a local copy counts only if it is the
    // same content, which the read engine checks against those ids anyway.
  }
  if (out.files.empty() && out.local.empty()) return std::nullopt;
  return out;
}

std::optional<std::string> HfLocalCache::Blob(const RepoRef& repo, const std::string& etag) const {
  if (root_.empty() || etag.find('/') != std::string::npos || etag.find("..") != std::string::npos) {
    return std::nullopt;
  }
  const fsys::path blob = fsys::path(RepoFolder(repo)) / "blobs" / etag;
  std::error_code ec;
  if (!fsys::is_regular_file(fsys::symlink_status(blob, ec))) return std::nullopt;  // no links to elsewhere
  return blob.string();
}

}  // namespace hubfs::hubs::hf
