// How an ONNX manifest becomes folders (docs/hubs/onnx.md):
//
//   <domain>/<model-slug>/<basename of model_path>   one per opset, size from model_bytes
//   <domain>/<model-slug>/model.onnx                 symlink to the largest opset's file
//   <domain>/<model-slug>/info.json                  that model's manifest entries, as published
//   <domain>/<model-slug>/<basename of model_with_data_path>   the test-data bundle
//   tree/<model_path>, tree/<model_with_data_path>   a faithful mirror of the repo paths
//
// domain is the first folder of model_path, after the zoo's collection folders `validated/` and
// `archive/`; `other` for files at the top. Pure function: no I/O.
#pragma once

#include <string>
#include <vector>

#include "hubfs/hubs/hub.h"
#include "hubfs/hubs/onnx/onnx_manifest.h"

namespace hubfs::hubs::onnx {

inline constexpr char kTreeFolder[] = "tree";

struct LayoutResult {
  std::vector<Entry> entries;
  std::vector<std::string> warnings;  // one line per skipped or renamed item
};

// `media_prefix` is the URL that model paths are appended to ("<media_base>/<owner>/<name>/<ref>").
LayoutResult BuildLayout(const std::vector<ManifestEntry>& manifest, const std::string& media_prefix);

}  // namespace hubfs::hubs::onnx
