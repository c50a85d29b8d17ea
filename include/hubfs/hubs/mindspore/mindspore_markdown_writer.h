// Writes a MindSpore Hub asset file (HUB-PROTOCOLS.md §3.3) for `hubfs publish --format
// mindspore`. The fields hubfs cannot know are filled with placeholders that already pass
// ValidateAssetText (mindspore_validator.h), each marked "edit-me" where it is free text, so the
// user can publish at once and is told to edit them. Pure functions: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/sha256.h"

namespace hubfs::hubs::mindspore {

struct PublishedAsset {
  std::string file_format;  // one of air, ckpt, onnx, mindir, mslite
  std::string url;          // absolute http(s) URL, without angle brackets
  Digest sha256{};
};

struct PublishedAssetFile {
  std::string model;        // model-name and backbone-name (the model folder's name)
  std::string version;      // model-version and mindspore-version (the version folder's name)
  std::string repo_link;    // absolute http(s) URL, without angle brackets
  std::string update_time;  // e.g. "2024-5-9"
  std::vector<PublishedAsset> assets;
};

// The markdown text: a "# <model>" title, the front matter between two "---" lines, and an
// introduction to edit.
std::string WriteAssetMarkdown(const PublishedAssetFile& file);

// The hub's file-format for a weights file name: .ckpt -> ckpt, .mindir -> mindir, .air -> air,
// .onnx -> onnx, .ms -> mslite; "" for anything else (not an asset).
std::string FileFormatOf(std::string_view file_name);

}  // namespace hubfs::hubs::mindspore
