#include "hubfs/hubs/onnx/onnx_layout.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "hubfs/core/names.h"
#include "hubfs/net/http_client.h"

namespace hubfs::hubs::onnx {
namespace {

struct Checked {
  const ManifestEntry* entry;
  std::vector<std::string> model_path;
  std::vector<std::string> data_path;  // empty when there is no bundle
};

// Folders the ONNX Model Zoo has used to hold all of its models.
bool IsCollectionFolder(const std::string& name) { return name == "validated" || name == "archive"; }

std::string Describe(const ManifestEntry& e) {
  std::string name = e.model;
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return "'" + name.substr(0, 80) + "' opset " + std::to_string(e.opset);
}

RemoteObject Remote(const ManifestFile& file, const std::string& media_prefix) {
  return RemoteObject{net::JoinUrl(media_prefix, file.path), file.bytes, file.sha256};
}

// Adds files to one folder, refusing a second, different file under a name already taken.
class Folder {
 public:
  explicit Folder(std::vector<std::string> path) : path_(std::move(path)) {}
  bool Has(const std::string& name) const { return taken_.count(name) > 0; }
  // Keeps `name` for a generated file added later with AddInline.
  void Reserve(const std::string& name) { taken_.emplace(name, ""); }
  // Returns false when `name` holds a different object already. `framework`: Entry::framework.
  bool AddFile(const std::string& name, const RemoteObject& remote, std::vector<Entry>* out,
               const char* framework = "") {
    auto [it, inserted] = taken_.emplace(name, remote.url);
    if (!inserted) return it->second == remote.url;
    Entry e;
    e.path = path_;
    e.path.push_back(name);
    e.kind = EntryKind::kFile;
    e.remote = remote;
    e.framework = framework;
    out->push_back(std::move(e));
    return true;
  }
  void AddInline(const std::string& name, EntryKind kind, std::string content,
                 std::vector<Entry>* out) {
    taken_.emplace(name, "");
    Entry e;
    e.path = path_;
    e.path.push_back(name);
    e.kind = kind;
    e.content = std::move(content);
    out->push_back(std::move(e));
  }

 private:
  std::vector<std::string> path_;
  std::map<std::string, std::string> taken_;  // name -> url ("" for generated files)
};

std::string InfoJson(const std::vector<const ManifestEntry*>& entries) {
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const ManifestEntry* e : entries) array.push_back(nlohmann::ordered_json::parse(e->raw_json));
  return array.dump(4) + "\n";
}

}  // namespace

LayoutResult BuildLayout(const std::vector<ManifestEntry>& manifest, const std::string& media_prefix) {
  LayoutResult out;

  // 1. Keep only entries whose names and paths are safe.
  std::vector<Checked> ok;
  for (const ManifestEntry& e : manifest) {
    auto model_path = SplitSafePath(e.model_file.path);
    std::optional<std::vector<std::string>> data_path;
    if (e.with_data) data_path = SplitSafePath(e.with_data->path);
    std::string why;
    if (e.model.empty() || e.model.size() > kMaxNameBytes || HasControlChars(e.model) ||
        e.model.find('/') != std::string::npos || Slugify(e.model).empty()) {
      why = "unusable model name";
    } else if (!model_path) {
      why = "unsafe model_path";
    } else if (e.with_data && !data_path) {
      why = "unsafe model_with_data_path";
    }
    if (!why.empty()) {
      out.warnings.push_back("skipped manifest entry " + Describe(e) + ": " + why);
      continue;
    }
    ok.push_back({&e, *model_path, data_path ? *data_path : std::vector<std::string>{}});
  }

  // 2-3. Group entries by (domain, model name), in manifest order. The zoo's collection folders
  // (`validated/` today, `archive/` before) are not domains. The rule looks at one entry only, so
  // adding an entry never renames the folders of the others.
  std::map<std::string, std::map<std::string, std::vector<const Checked*>>> groups;
  for (const Checked& c : ok) {
    size_t first = c.model_path.size() >= 3 && IsCollectionFolder(c.model_path[0]) ? 1 : 0;
    std::string domain = c.model_path.size() > first + 1 ? c.model_path[first] : std::string("other");
    if (domain == kTreeFolder) domain = "tree-models";
    groups[domain][c.entry->model].push_back(&c);
  }

  for (auto& [domain, models] : groups) {
    // 4. Slugs: names that collide after slugging get -2, -3… in sorted name order (stable
    // against reordering of the manifest). Every model's own slug is reserved first, so a
    // renamed folder never takes the slug of another model ("A", "a", "a 2"), and the suffix
    // replaces the end of a long slug so the folder name stays within kMaxNameBytes.
    std::map<std::string, std::string> owner;  // folder name -> model name
    for (const auto& [name, entries] : models) owner.emplace(Slugify(name), name);
    for (auto& [name, entries] : models) {
      std::string slug = Slugify(name);
      if (owner.at(slug) != name) {
        for (int n = 2;; ++n) {
          const std::string suffix = "-" + std::to_string(n);
          std::string renamed = slug.substr(0, kMaxNameBytes - suffix.size()) + suffix;
          if (owner.emplace(renamed, name).second) {
            slug = std::move(renamed);
            break;
          }
        }
        out.warnings.push_back("model '" + name + "' in " + domain +
                               " shares its folder name; using " + slug);
      }
      Folder folder({domain, slug});
      folder.Reserve("info.json");  // generated below; a published file of that name is refused
      std::vector<const ManifestEntry*> infos;
      const Checked* latest = nullptr;
      for (const Checked* c : entries) {
        infos.push_back(c->entry);
        const std::string& base = c->model_path.back();
        if (!folder.AddFile(base, Remote(c->entry->model_file, media_prefix), &out.entries, "onnx")) {
          out.warnings.push_back("skipped " + Describe(*c->entry) + ": another file is already named " + base);
          continue;
        }
        if (!latest || c->entry->opset > latest->entry->opset) latest = c;
        if (c->entry->with_data && !folder.AddFile(c->data_path.back(),
                                                   Remote(*c->entry->with_data, media_prefix),
                                                   &out.entries)) {
          out.warnings.push_back("skipped bundle of " + Describe(*c->entry) + ": name taken");
        }
      }
      folder.AddInline("info.json", EntryKind::kFile, InfoJson(infos), &out.entries);
      if (latest && !folder.Has("model.onnx")) {
        folder.AddInline("model.onnx", EntryKind::kSymlink, latest->model_path.back(), &out.entries);
      }
    }
  }

  // 5. The mirror of repo paths. The same path may be listed by several entries; the first wins
  // when they disagree about its content.
  std::map<std::vector<std::string>, const ManifestFile*> mirror;
  auto add_mirror = [&](const std::vector<std::string>& path, const ManifestFile& file) {
    auto [it, inserted] = mirror.emplace(path, &file);
    if (!inserted && (it->second->sha256 != file.sha256 || it->second->bytes != file.bytes)) {
      out.warnings.push_back("manifest lists " + file.path + " twice with different digests; keeping the first");
    }
  };
  for (const Checked& c : ok) {
    add_mirror(c.model_path, c.entry->model_file);
    if (c.entry->with_data) add_mirror(c.data_path, *c.entry->with_data);
  }
  for (const auto& [path, file] : mirror) {
    Entry e;
    e.path.push_back(kTreeFolder);
    e.path.insert(e.path.end(), path.begin(), path.end());
    e.kind = EntryKind::kFile;
    e.remote = Remote(*file, media_prefix);
    out.entries.push_back(std::move(e));
  }
  return out;
}

}  // namespace hubfs::hubs::onnx
