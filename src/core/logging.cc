#include "hubfs/core/logging.h"

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <atomic>
#include <memory>

#include "hubfs/core/syslog.h"

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

Level FromSpd(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return Level::kDebug;
    case spdlog::level::info: return Level::kInfo;
    case spdlog::level::warn: return Level::kWarn;
    default: return Level::kError;
  }
}

// Hands each line to a SyslogWriter, which has its own lock (hence spdlog's null mutex) and
// adds the priority, time and tag itself.
class SyslogSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit SyslogSink(std::shared_ptr<SyslogWriter> writer) : writer_(std::move(writer)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    writer_->Send(FromSpd(msg.level), std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  std::shared_ptr<SyslogWriter> writer_;
};

// The syslog target's writer, while it is the target (for DroppedLines).
std::shared_ptr<SyslogWriter>& CurrentSyslog() {
  static std::shared_ptr<SyslogWriter> writer;
  return writer;
}

bool StartsWithNoCase(std::string_view text, size_t at, std::string_view word) {
  if (text.size() - at < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    char c = text[at + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[i]) return false;
  }
  return true;
}

bool IsAsciiAlnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

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
  CurrentSyslog().reset();
  return Status();
}

Status LogToSyslog(const std::string& socket_path) {
  auto writer = std::make_shared<SyslogWriter>(socket_path);
  HUBFS_RETURN_IF_ERROR(writer->Connect());
  auto logger = std::make_shared<spdlog::logger>("hubfs-syslog", std::make_shared<SyslogSink>(writer));
  logger->set_level(spdlog::level::debug);
  Logger() = logger;
  CurrentSyslog() = writer;
  return Status();
}

uint64_t DroppedLines() {
  const auto& writer = CurrentSyslog();
  return writer ? writer->dropped() : 0;
}

bool ParseTarget(std::string_view text, Target* target) {
  if (text == "auto") *target = Target::kAuto;
  else if (text == "stderr") *target = Target::kStderr;
  else if (text == "file") *target = Target::kFile;
  else if (text == "syslog") *target = Target::kSyslog;
  else return false;
  return true;
}

const char* TargetName(Target target) {
  switch (target) {
    case Target::kAuto: return "auto";
    case Target::kStderr: return "stderr";
    case Target::kFile: return "file";
    case Target::kSyslog: return "syslog";
  }
  return "auto";
}

std::string Redact(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  size_t i = 0;
  while (i < message.size()) {
    // "Authorization: Bearer x", "Proxy-Authorization: Basic x", '"authorization": "x"', and
    // "authorization=x": the rest of the line goes, whatever scheme and quoting it uses.
    if (StartsWithNoCase(message, i, "authorization")) {
      size_t j = i + std::string_view("authorization").size();
      while (j < message.size() && (message[j] == ' ' || message[j] == '\t' || message[j] == '"' || message[j] == '\'')) ++j;
      if (j < message.size() && (message[j] == ':' || message[j] == '=')) {
        out.append(message.substr(i, j + 1 - i));
        out += " [REDACTED]";
        const size_t eol = message.find_first_of("\r\n", j + 1);
        if (eol == std::string_view::npos) return out;
        i = eol;
        continue;
      }
    }
    // Hugging Face tokens: hf_ and (today 34) letters and digits.
    if (message.compare(i, 3, "hf_") == 0) {
      size_t j = i + 3;
      while (j < message.size() && IsAsciiAlnum(message[j])) ++j;
      if (j - (i + 3) >= 10) {
        out += "hf_[REDACTED]";
        i = j;
        continue;
      }
    }
    out.push_back(message[i]);
    ++i;
  }
  return out;
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

void Write(Level level, std::string_view message) { Logger()->log(ToSpd(level), "{}", Redact(message)); }

void Flush() { Logger()->flush(); }

}  // namespace hubfs::log
