// `hubfs publish DIR --format onnx|digits|mindspore` and `hubfs validate DIR --format onnx|digits`
// (docs/cli.md): internal helpers shared by the per-format files.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "hubfs/core/result.h"
#include "hubfs/core/sha256.h"

namespace hubfs::app::publish {

struct Hashed {
  Digest sha256{};
  uint64_t bytes = 0;
};

// Streams the file through SHA-256.
Result<Hashed> HashFile(const std::filesystem::path& path);

// Writes `text` to `path` through a temporary file and rename, so readers never see half a file.
Status WriteFileAtomically(const std::filesystem::path& path, const std::string& text);

// Reads a whole (small) document; kResourceExhausted beyond `max_bytes`.
Result<std::string> ReadSmallFile(const std::filesystem::path& path, size_t max_bytes);

// True for a path component a URL can carry verbatim: [A-Za-z0-9._+-], not starting with '.'.
// The official ONNX client appends paths without percent-encoding.
bool IsPlainUrlName(const std::string& name);

// "a/b/c" relative to `root`, '/'-separated.
std::string RelativePath(const std::filesystem::path& root, const std::filesystem::path& path);

// Per-format entry points: exit status 0 all written/ok, 1 a file skipped/a mismatch, 2 usage.
int PublishOnnx(const std::filesystem::path& dir, std::ostream& out, std::ostream& err);
int PublishDigits(const std::filesystem::path& dir, std::ostream& out, std::ostream& err);
int PublishMindspore(const std::filesystem::path& dir, const std::string& base_url, bool git,
                     std::ostream& out, std::ostream& err);
int CheckOnnx(const std::filesystem::path& dir, std::ostream& out, std::ostream& err);
int CheckDigits(const std::filesystem::path& dir, std::ostream& out, std::ostream& err);

}  // namespace hubfs::app::publish
