// How the MindSpore Hub's git tree becomes folders (docs/hubs/mindspore.md):
//
//   mshub_res/assets/mindspore/{version}/{model}.md            (layout since 2022)
//     -> <version>/<model>/<model>.md
//   mshub_res/assets/mindspore/{ascend,gpu,cpu}/{version}/{model}.md   (older layout)
//     -> <version>-<device>/<model>/<model>.md                 e.g. 0.7-ascend/googlenet_v1_cifar10/
//   mshub_res/assets/mindspore/.../{model}_cn.md (Chinese twin)
//     -> the English twin's folder: <...>/<model>/<model>_cn.md, shown as published
//   each asset of the English file -> <...>/<model>/<basename of asset-link>
//
// Only the publisher "mindspore" is shown (the official hub_list shows only it). A Chinese twin
// is not parsed (like the official tool, which checks it through its English file; its keys
// are Chinese) and appears only beside its English file. When a model folder is found on
// several branches, the first configured branch with a usable English file provides the whole
// folder. Assets hubfs cannot verify (no full sha256) or name are skipped with a warning; the
// markdown file stays. Pure functions: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"
#include "hubfs/hubs/hub.h"
#include "hubfs/hubs/mindspore/mindspore_markdown.h"

namespace hubfs::hubs::mindspore {

inline constexpr char kAssetsRoot[] = "mshub_res/assets";
inline constexpr char kShownPublisher[] = "mindspore";

// A markdown asset file's place in the repository and in the mount.
struct AssetPath {
  std::string publisher;  // first folder below kAssetsRoot, e.g. "mindspore", "noah-cvlab"
  std::string device;     // "ascend", "gpu" or "cpu" in the older layout; "" in the current one
  std::string version;    // the version folder as named, e.g. "1.10"
  std::string file_name;  // e.g. "alexnet_cifar10_cn.md"
  std::string model;      // the file's stem without a trailing "_cn", e.g. "alexnet_cifar10"
  bool chinese = false;   // a "_cn.md" twin
  // The folder below the hub's folder: "<version>" or "<version>-<device>".
  std::string VersionFolder() const;
};

// Classifies a repository path ("mshub_res/assets/mindspore/1.10/alexnet_cifar10.md").
// nullopt for paths that are not asset markdown files (outside kAssetsRoot, not ".md", README
// files); kInvalidArgument for an asset file at an unexpected depth or with a name that cannot
// be a path component (hostile or over-long).
Result<std::optional<AssetPath>> ParseAssetPath(std::string_view repo_path);

// One parsed, usable asset file, as read from one branch.
struct ModelFile {
  AssetPath path;
  std::string branch;
  std::string text;  // the file as published: the content of its .md entry
  AssetMarkdown markdown;  // parsed front matter; left empty for a Chinese twin
};

struct LayoutResult {
  std::vector<Entry> entries;
  std::vector<std::string> warnings;  // one line per skipped item
};

// `files` in priority order: the branches in configured order, each in tree order.
LayoutResult BuildLayout(const std::vector<ModelFile>& files);

}  // namespace hubfs::hubs::mindspore
