#include "hubfs/core/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <atomic>

namespace hubfs::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("hubfs");
    l->set_pattern("%Y-%m-%d %H:%M:%S.%e hubfs[%P] %^%l%$ %v");
    l->set_level(spdlog::level::debug);
    return l;
  }();
  return logger;
}

}  // namespace

Status LogToFile(const std::string& path) {
  // spdlog would create missing folders; a typo in log_file should be an error instead.
  if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
    struct stat st {};
    const std::string dir = path.substr(0, slash);
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Status::InvalidArgument("cannot write the log file " + path + ": no folder " + dir);
    }
  }
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> sink;
  try {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
  } catch (const spdlog::spdlog_ex& e) {
    return Status::InvalidArgument("cannot write the log file " + path + ": " + e.what());
  }
  auto logger = std::make_shared<spdlog::logger>("hubfs-file", sink);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e hubfs[%P] %l %v");
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::debug);
  Logger() = logger;
  return Status();
}

void SetLevel(Level level) { g_level = level; }

bool ParseLevel(std::string_view text, Level* level) {
  if (text == "debug") *level = Level::kDebug;
  else if (text == "info") *level = Level::kInfo;
  else if (text == "warn" || text == "warning") *level = Level::kWarn;
  else if (text == "error") *level = Level::kError;
  else return false;
  return true;
}

bool Enabled(Level level) { return level >= g_level.load(std::memory_order_relaxed); }

void Write(Level level, std::string_view message) { Logger()->log(ToSpd(level), "{}", message); }

void Flush() { Logger()->flush(); }

}  // namespace hubfs::log
