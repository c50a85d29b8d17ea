// Writes ONNX_HUB_MANIFEST.json as the official zoo does (HUB-PROTOCOLS.md §1.4): a JSON array,
// 4-space indent, no trailing newline, keys in the zoo's order. Used by `hubfs publish --format
// onnx`; ParseManifest (onnx_manifest.h) reads the output back. Pure functions: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/sha256.h"
#include "hubfs/hubs/onnx/onnx_model_reader.h"

namespace hubfs::hubs::onnx {

struct PublishedFile {
  std::string path;  // relative to the repo root, '/'-separated
  Digest sha256{};
  uint64_t bytes = 0;
};

struct PublishedModel {
  std::string model;         // manifest "model"
  std::string onnx_version;  // "" leaves the optional field out
  int64_t opset = 1;
  PublishedFile file;
  std::vector<std::string> tags;
  std::vector<ModelPort> inputs;
  std::vector<ModelPort> outputs;
  std::optional<PublishedFile> with_data;  // the <stem>.tar.gz bundle with test data
};

// The manifest text for `models`, in the given order.
std::string WriteManifest(const std::vector<PublishedModel>& models);

// The ONNX release that introduced default-domain opset `opset` ("1.3" for 8, "1.14" for 19);
// "1.0" below opset 5, "" when newer than this table.
std::string OnnxVersionOfOpset(int64_t opset);

// Tags as the zoo derives them from a model's folders: every folder of `model_path` lower-cased
// with '_' as ' ', without "model"/"models" (the zoo's leaf folders); a "preproc" folder adds
// "preprocessing". No duplicates, in path order.
std::vector<std::string> TagsFromPath(std::string_view model_path);

// The manifest name for a file stem: the stem without a "-<opset>" suffix equal to the model's
// opset ("mnist-8" at opset 8 -> "mnist"), so the opsets of one model share a name and the
// official client's opset selection works; else the stem unchanged.
std::string ModelNameFromStem(std::string_view stem, int64_t opset);

}  // namespace hubfs::hubs::onnx
