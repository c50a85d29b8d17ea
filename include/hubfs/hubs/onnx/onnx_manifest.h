// The ONNX Model Hub's index: ONNX_HUB_MANIFEST.json, a JSON array of model entries
// (see docs/hubs/onnx.md). Pure functions: no I/O, safe to fuzz.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"
#include "hubfs/core/sha256.h"

namespace hubfs::hubs::onnx {

// "owner/name[:ref]" as the official client parses it: owner and name are the first two
// '/'-parts of the text before the first ':', ref the text between the first and second ':'
// (default "main").
struct RepoSpec {
  std::string owner;
  std::string name;
  std::string ref;
};
// Rejects specs whose parts are empty or unsafe in a URL path (NUL, control characters, "..").
Result<RepoSpec> ParseRepoSpec(std::string_view text);

struct ManifestFile {
  std::string path;              // repo-relative, as published
  std::optional<Digest> sha256;  // nullopt when absent or null
  std::optional<uint64_t> bytes;
};

struct ManifestEntry {
  std::string model;         // display name, e.g. "ResNet50"
  int opset = 0;
  ManifestFile model_file;   // model_path / model_sha / model_bytes
  std::optional<ManifestFile> with_data;  // model_with_data_path / _sha / _bytes (.tar.gz)
  std::string raw_json;      // the entry exactly as published (compact JSON), for info.json
};

struct ParsedManifest {
  std::vector<ManifestEntry> entries;
  // One line per skipped element: its index and why (missing field, wrong type, bad digest).
  std::vector<std::string> skipped;
};

// Parses the manifest text. Elements that are not usable model entries are skipped and reported
// in `skipped`; a document that is not a JSON array is kDataLoss.
Result<ParsedManifest> ParseManifest(std::string_view text);

}  // namespace hubfs::hubs::onnx
