// How `hubfs ls` and `hubfs search` print model summaries.
//
// Table: one line per model, columns separated by at least two spaces and aligned:
//   hub/path  name  version  framework  tags  size
// where version is "opset 8,12" for ONNX models and a commit id's first 7 hex digits (as git
// shows it) for Hugging Face repositories, tags are comma-separated, size is human-readable
// (1024-based: "512B", "9.5K", "634M") followed by " (N files)" for Hugging Face repositories,
// and an unknown value is "-".
// JSON: an array of objects {hub, path, name, version, framework, tags, size} (+ opsets for ONNX
// models, + files and gated for Hugging Face repositories); size is bytes or null.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model_summary.h"

namespace hubfs::app {

std::string FormatTable(const std::vector<ModelSummary>& models);
std::string FormatJson(const std::vector<ModelSummary>& models);
std::string HumanSize(uint64_t bytes);

}  // namespace hubfs::app
