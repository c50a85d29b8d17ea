#include "hubfs/hubs/mindspore/mindspore_layout.h"

#include <algorithm>
#include <iterator>
#include <map>

#include "hubfs/core/names.h"
#include "hubfs/hubs/model_framework.h"

namespace hubfs::hubs::mindspore {
namespace {

bool IsDevice(std::string_view name) { return name == "ascend" || name == "gpu" || name == "cpu"; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// For messages: repository paths are untrusted text.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

std::string LineSuffix(int line) { return line > 0 ? ":" + std::to_string(line) : ""; }

// One model folder: names already used, and by what (the asset URL; "" for markdown files).
class ModelFolder {
 public:
  explicit ModelFolder(std::vector<std::string> path) : path_(std::move(path)) {}

  void AddMarkdown(const ModelFile& file, LayoutResult* out) {
    if (!taken_.emplace(file.path.file_name, Taken{}).second) {
      out->warnings.push_back("skipped " + Describe(file) + ": its name is taken in the folder");
      return;
    }
    Entry e;
    e.path = path_;
    e.path.push_back(file.path.file_name);
    e.kind = EntryKind::kFile;
    e.content = file.text;
    out->entries.push_back(std::move(e));
  }

  void AddAsset(const ModelFile& file, size_t index, LayoutResult* out) {
    const AssetEntry& asset = file.markdown.assets[index];
    const std::string url = StripAngleBrackets(asset.asset_link.value_or(""));
    const std::string name = UrlBasename(url);
    const std::optional<Digest> digest = DigestFromHex(asset.asset_sha256.value_or(""));
    std::string why;
    if (!asset.is_map) {
      why = "not a mapping";
    } else if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      why = "asset-link is not an http(s) URL";
    } else if (!IsSafeName(name)) {
      why = "asset-link does not end in a usable file name";
    } else if (!digest) {
      why = "asset-sha256 is not 64 hex digits";  // hubfs serves only what it can verify
    }
    const std::string which = "asset " + std::to_string(index + 1) + " of " + Describe(file);
    if (!why.empty()) {
      out->warnings.push_back("skipped " + which + LineSuffix(asset.line) + ": " + why);
      return;
    }
    auto [it, inserted] = taken_.emplace(name, Taken{url, *digest});
    if (!inserted) {
      if (it->second.url != url || it->second.sha256 != *digest) {
        out->warnings.push_back("skipped " + which + ": the folder already has a different file named " +
                                Printable(name));
      }
      return;
    }
    Entry e;
    e.path = path_;
    e.path.push_back(name);
    e.kind = EntryKind::kFile;
    e.remote = RemoteObject{url, std::nullopt, *digest};
    // Every asset is a MindSpore model, except an ONNX export published beside it.
    e.framework = FrameworkOfFileName(name) == "onnx" ? "onnx" : "mindspore";
    out->entries.push_back(std::move(e));
  }

  static std::string Describe(const ModelFile& file) {
    return file.branch + ":" + kAssetsRoot + "/" + file.path.publisher + "/" +
           (file.path.device.empty() ? "" : file.path.device + "/") + file.path.version + "/" +
           file.path.file_name;
  }

 private:
  struct Taken {
    std::string url;  // "" for markdown files
    Digest sha256{};
  };
  std::vector<std::string> path_;
  std::map<std::string, Taken> taken_;
};

}  // namespace

std::string AssetPath::VersionFolder() const { return device.empty() ? version : version + "-" + device; }

Result<std::optional<AssetPath>> ParseAssetPath(std::string_view repo_path) {
  const std::string_view root = kAssetsRoot;
  if (repo_path.size() <= root.size() + 1 || repo_path.substr(0, root.size()) != root ||
      repo_path[root.size()] != '/') {
    return std::optional<AssetPath>();
  }
  const std::string_view rest = repo_path.substr(root.size() + 1);
  const size_t last_slash = rest.rfind('/');
  const std::string_view file_name = last_slash == std::string_view::npos ? rest : rest.substr(last_slash + 1);
  if (!EndsWith(file_name, ".md") || file_name == "README.md" || file_name == "README_CN.md") {
    return std::optional<AssetPath>();
  }
  auto parts = SplitSafePath(rest);
  if (!parts) return Status::InvalidArgument("unsafe path " + Printable(repo_path));
  AssetPath path;
  if (parts->size() == 3) {
    path.version = (*parts)[1];
  } else if (parts->size() == 4 && IsDevice((*parts)[1])) {
    path.device = (*parts)[1];
    path.version = (*parts)[2];
  } else {
    return Status::InvalidArgument("asset file at an unexpected place: " + Printable(repo_path));
  }
  path.publisher = (*parts)[0];
  path.file_name = parts->back();
  path.chinese = EndsWith(path.file_name, "_cn.md");
  path.model = path.file_name.substr(0, path.file_name.size() - (path.chinese ? 6 : 3));
  if (path.model.empty() || !IsSafeName(path.VersionFolder())) {
    return Status::InvalidArgument("unusable name in " + Printable(repo_path));
  }
  return std::optional<AssetPath>(std::move(path));
}

LayoutResult BuildLayout(const std::vector<ModelFile>& files) {
  LayoutResult out;
  // (version folder, model) -> every candidate file, in priority order.
  std::map<std::pair<std::string, std::string>, std::vector<const ModelFile*>> candidates;
  for (const ModelFile& file : files) {
    if (file.path.publisher != kShownPublisher) continue;
    candidates[{file.path.VersionFolder(), file.path.model}].push_back(&file);
  }
  for (auto& [key, group] : candidates) {
    // The folder comes from the first branch with the English file; a Chinese twin alone
    // makes no folder (its front matter is not read, as by the official tool).
    auto english = std::find_if(group.begin(), group.end(),
                                [](const ModelFile* f) { return !f->path.chinese; });
    if (english == group.end()) {
      for (const ModelFile* f : group) {
        out.warnings.push_back("skipped " + ModelFolder::Describe(*f) + ": no English twin " +
                               f->path.model + ".md beside it");
      }
      continue;
    }
    const std::string& branch = (*english)->branch;
    std::vector<const ModelFile*> chosen;
    std::copy_if(group.begin(), group.end(), std::back_inserter(chosen),
                 [&](const ModelFile* f) { return f->branch == branch; });
    std::stable_sort(chosen.begin(), chosen.end(), [](const ModelFile* a, const ModelFile* b) {
      return !a->path.chinese && b->path.chinese;
    });
    ModelFolder folder({key.first, key.second});
    for (const ModelFile* file : chosen) folder.AddMarkdown(*file, &out);
    for (const ModelFile* file : chosen) {
      if (file->path.chinese) continue;
      for (size_t i = 0; i < file->markdown.assets.size(); ++i) folder.AddAsset(*file, i, &out);
    }
  }
  return out;
}

}  // namespace hubfs::hubs::mindspore
