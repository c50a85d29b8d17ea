// Logging: one process-wide logger (spdlog behind it) writing to stderr, a file or the local
// syslog socket (syslog.h). Use the HUBFS_LOG_* macros with fmt-style formatting:
// HUBFS_LOG_WARN("skipping {}: {}", name, why).
//
// Every line passes through Redact first, whatever the target: no credential reaches a log.
//
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "hubfs/core/status.h"

namespace hubfs::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Where a mount's log goes (the configuration's log_target). kAuto: stderr in the foreground;
// when detached, log_file if set, else syslog when its socket exists, else <cache_dir>/hubfs.log.
enum class Target { kAuto, kStderr, kFile, kSyslog };
// Parses "auto", "stderr", "file", "syslog"; returns false for anything else.
bool ParseTarget(std::string_view text, Target* target);
const char* TargetName(Target target);

// Sends log lines to `path` (appending) instead of stderr. Call before threads start.
// Fails (and keeps logging to stderr) when the file cannot be opened; its folder must exist.
Status LogToFile(const std::string& path);
// Sends log lines as syslog datagrams (facility daemon, tag hubfs[pid]) to the datagram socket
// at `socket_path` (normally /dev/log). Call before threads start. Fails (and keeps the current
// target) when the socket cannot be reached now; later failures only drop lines (syslog.h).
Status LogToSyslog(const std::string& socket_path);
// Lines the syslog target dropped so far (0 for the other targets).
uint64_t DroppedLines();
// `message` with credentials masked: the value of an Authorization (or Proxy-Authorization)
// header, up to the end of the line, and anything shaped like a Hugging Face token
// (hf_ and 10 or more letters and digits) become "[REDACTED]".
std::string Redact(std::string_view message);
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
