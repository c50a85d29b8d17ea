// Logging: one process-wide logger (spdlog behind it) writing to stderr or a file.
// Use the HUBFS_LOG_* macros with fmt-style formatting: HUBFS_LOG_WARN("skipping {}: {}", name, why).
//
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "hubfs/core/status.h"

namespace hubfs::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Sends log lines to `path` (appending) instead of stderr. Call before threads start.
// Fails (and keeps logging to stderr) when the file cannot be opened; its folder must exist.
Status LogToFile(const std::string& path);
void SetLevel(Level level);
// Parses "debug", "info", "warn", "error"; returns false for anything else.
bool ParseLevel(std::string_view text, Level* level);
bool Enabled(Level level);
void Write(Level level, std::string_view message);
// Flushes buffered lines (call before fork or exit).
void Flush();

}  // namespace hubfs::log

#define HUBFS_LOG_(level, ...)                                          \
  do {                                                                  \
    if (::hubfs::log::Enabled(level))                                   \
      ::hubfs::log::Write(level, ::fmt::format(__VA_ARGS__));           \
  } while (0)
#define HUBFS_LOG_DEBUG(...) HUBFS_LOG_(::hubfs::log::Level::kDebug, __VA_ARGS__)
#define HUBFS_LOG_INFO(...) HUBFS_LOG_(::hubfs::log::Level::kInfo, __VA_ARGS__)
#define HUBFS_LOG_WARN(...) HUBFS_LOG_(::hubfs::log::Level::kWarn, __VA_ARGS__)
#define HUBFS_LOG_ERROR(...) HUBFS_LOG_(::hubfs::log::Level::kError, __VA_ARGS__)
