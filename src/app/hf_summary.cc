#include "hf_summary.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

namespace hubfs::app {
namespace {

using hubs::Entry;
using hubs::EntryKind;
namespace hf = hubs::hf;

constexpr char kDatasets[] = "datasets";
// HfHub writes this into the folder of a repository it could not list, after this prefix.
constexpr char kErrorFile[] = "ERROR.txt";
constexpr char kErrorPrefix[] = "hubfs could not list ";

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void AddTag(std::vector<std::string>* tags, const std::string& tag) {
  if (tag.empty()) return;
  for (const std::string& t : *tags) {
    if (Lower(t) == Lower(tag)) return;
  }
  tags->push_back(tag);
}

// How deep a repository folder is below the hub: <org>/<name> or datasets/<org>/<name>.
size_t RepoDepth(const std::vector<std::string>& path) {
  return !path.empty() && path[0] == kDatasets ? 3 : 2;
}

// The commit of a resolve URL ({endpoint}/[datasets/]{id}/resolve/{commit}/{path}), or "" (a
// file:// URL of the local HF cache, or anything else).
std::string CommitOfUrl(const std::string& url) {
  static constexpr std::string_view kResolve = "/resolve/";
  const size_t at = url.find(kResolve);
  if (at == std::string::npos) return "";
  const size_t start = at + kResolve.size();
  const std::string commit = url.substr(start, url.find('/', start) - start);
  return hf::IsCommitId(commit) ? commit : "";
}

struct Repo {
  std::vector<std::string> folder;
  uint64_t files = 0;
  uint64_t bytes = 0;
  std::vector<std::string> names;  // file names, for FrameworkOfFiles
  std::string commit;              // of the first resolve URL
  std::optional<std::string> error;
};

// What the repo info adds to a summary.
void ApplyRepoInfo(const std::string& body, ModelSummary* m, bool dataset) {
  auto info = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!info.is_object()) return;
  auto string_of = [&info](const char* key) {
    auto it = info.find(key);
    return it != info.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (auto tags = info.find("tags"); tags != info.end() && tags->is_array()) {
    for (const auto& tag : *tags) {
      if (tag.is_string()) AddTag(&m->tags, tag.get<std::string>());
    }
  }
  AddTag(&m->tags, string_of("pipeline_tag"));
  if (!dataset && !string_of("library_name").empty())
    m->framework = Lower(string_of("library_name"));
  if (m->version.empty() && hf::IsCommitId(string_of("sha"))) m->version = string_of("sha");
  if (auto gated = info.find("gated"); gated != info.end()) {
    m->gated = (gated->is_boolean() && gated->get<bool>()) ||
               (gated->is_string() && !gated->get<std::string>().empty() &&
                gated->get<std::string>() != "false");
  }
}

}  // namespace

std::string FrameworkOfFiles(const std::vector<std::string>& names) {
  struct Rule {
    const char* framework;
    std::vector<std::string> suffixes;
  };
  static const std::vector<Rule> kRules = {
      {"onnx", {".onnx"}},
      {"gguf", {".gguf"}},
      {"mindspore", {".mindir"}},
      {"pytorch", {".pt", ".pth"}},
      {"safetensors", {".safetensors"}},
      {"tensorflow", {".pb", ".h5", ".tflite"}},
  };
  for (const Rule& rule : kRules) {
    for (const std::string& name : names) {
      const std::string lower = Lower(name);
      if (std::string(rule.framework) == "pytorch" && lower.rfind("pytorch_model", 0) == 0 &&
          EndsWith(lower, ".bin")) {
        return rule.framework;
      }
      for (const std::string& suffix : rule.suffixes) {
        if (EndsWith(lower, suffix)) return rule.framework;
      }
    }
  }
  return "";
}

Summaries SummarizeHf(const std::string& hub_name, const hubs::Listing& listing,
                      const RepoInfoOf& repo_info) {
  std::vector<Repo> repos;
  std::map<std::vector<std::string>, size_t> index;  // folder -> repos[i]
  auto repo_of = [&](const std::vector<std::string>& folder) -> Repo& {
    auto [it, fresh] = index.try_emplace(folder, repos.size());
    if (fresh) repos.push_back(Repo{folder, 0, 0, {}, "", std::nullopt});
    return repos[it->second];
  };
  for (const Entry& e : listing.entries) {
    const size_t depth = RepoDepth(e.path);
    if (e.path.size() < depth || (e.path.size() == depth && e.kind != EntryKind::kDirectory))
      continue;
    Repo& repo = repo_of(
        std::vector<std::string>(e.path.begin(), e.path.begin() + static_cast<long>(depth)));
    if (e.path.size() == depth) continue;  // the folder itself
    if (e.kind == EntryKind::kFile && !e.remote && e.path.size() == depth + 1 &&
        e.path.back() == kErrorFile) {
      std::string why = e.content;
      if (why.rfind(kErrorPrefix, 0) == 0) why.erase(0, sizeof kErrorPrefix - 1);
      while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
      repo.error = why;
      continue;
    }
    if (e.kind != EntryKind::kFile || !e.remote) continue;
    ++repo.files;
    repo.bytes += e.remote->size.value_or(0);
    repo.names.push_back(e.path.back());
    if (repo.commit.empty()) repo.commit = CommitOfUrl(e.remote->url);
  }

  Summaries out;
  for (const Repo& repo : repos) {
    const bool dataset = repo.folder.size() == 3;
    auto folder = hf::ParseRepoFolder(repo.folder.back());
    if (!folder) continue;  // HfHub makes no such folder
    std::string path;
    for (const std::string& part : repo.folder) path += (path.empty() ? "" : "/") + part;
    if (repo.error) {
      out.failures.push_back(*repo.error);
      continue;
    }
    hf::RepoRef ref;
    ref.type = dataset ? hf::RepoType::kDataset : hf::RepoType::kModel;
    ref.id = repo.folder[repo.folder.size() - 2] + "/" + folder->name;
    ref.revision = folder->revision;
    ModelSummary m;
    m.hub = hub_name;
    m.path = path;
    m.name = ref.id;
    m.version = hf::IsCommitId(ref.revision) ? ref.revision : repo.commit;
    m.size = repo.bytes;
    m.files = repo.files;
    if (repo_info) {
      if (auto body = repo_info(ref)) ApplyRepoInfo(*body, &m, dataset);
    }
    if (!dataset && m.framework.empty()) m.framework = FrameworkOfFiles(repo.names);
    out.models.push_back(std::move(m));
  }
  return out;
}

}  // namespace hubfs::app
