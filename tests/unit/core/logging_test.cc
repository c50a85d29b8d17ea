// The syslog target (datagram format, priorities, reconnecting, dropping instead of blocking) and
// the redaction every log line passes through.
#include "hubfs/core/logging.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <thread>

#include "hubfs/core/syslog.h"
#include "testing/temp_dir.h"

namespace hubfs::log {
namespace {

// A datagram socket bound at a path, as rsyslog or journald bind /dev/log.
class Receiver {
 public:
  explicit Receiver(const std::string& path) : path_(path) {
    ::unlink(path.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~Receiver() { Close(); }
  // The next datagram, or nullopt after 5 s.
  std::optional<std::string> Next() {
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }
  // Gone, as when the log daemon stops: the socket closes and its file is removed.
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    ::unlink(path_.c_str());
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// FormatSyslogLine uses local time; these tests pin it to UTC.
class UtcTime : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = std::getenv("TZ")) saved_ = tz;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  void TearDown() override {
    if (saved_) ::setenv("TZ", saved_->c_str(), 1);
    else ::unsetenv("TZ");
    ::tzset();
  }
  std::optional<std::string> saved_;
};

constexpr std::time_t kJan2 = 86400 + 3 * 3600 + 4 * 60 + 5;  // 1970-01-02 03:04:05 UTC

TEST(SyslogTest, PriorityIsFacilityDaemonAndTheLevelsSeverity) {
  EXPECT_EQ(SyslogPriority(Level::kError), 27);  // 3 * 8 + err (3)
  EXPECT_EQ(SyslogPriority(Level::kWarn), 28);   // warning (4)
  EXPECT_EQ(SyslogPriority(Level::kInfo), 30);   // info (6)
  EXPECT_EQ(SyslogPriority(Level::kDebug), 31);  // debug (7)
}

TEST_F(UtcTime, LineIsRfc3164LocalFormWithTagAndPid) {
  EXPECT_EQ(FormatSyslogLine(Level::kError, "read /onnx/a.onnx: HTTP 500", kJan2, 4242),
            "<27>Jan  2 03:04:05 hubfs[4242]: read /onnx/a.onnx: HTTP 500");
  EXPECT_EQ(FormatSyslogLine(Level::kInfo, "mounted", kJan2 + 20 * 86400 + 11 * 3600, 7, "other"),
            "<30>Jan 22 14:04:05 other[7]: mounted");
  EXPECT_EQ(FormatSyslogLine(Level::kWarn, "", kJan2 + 334 * 86400, 1), "<28>Dec  2 03:04:05 hubfs[1]: ");
}

TEST_F(UtcTime, LineIsOneLineWithoutControlCharacters) {
  EXPECT_EQ(FormatSyslogLine(Level::kDebug, "first\nsecond\r\tthird\x7f", kJan2, 1),
            "<31>Jan  2 03:04:05 hubfs[1]: first second  third ");
}

TEST_F(UtcTime, LongMessageIsCutAtACharacterBoundary) {
  // "é" is two bytes; put one across the limit.
  std::string message(kMaxSyslogMessage - 1, 'a');
  message += "\xc3\xa9tail";
  const std::string line = FormatSyslogLine(Level::kInfo, message, kJan2, 1);
  const std::string prefix = "<30>Jan  2 03:04:05 hubfs[1]: ";
  ASSERT_EQ(line.substr(0, prefix.size()), prefix);
  EXPECT_EQ(line.substr(prefix.size()), std::string(kMaxSyslogMessage - 1, 'a') + "...");
  EXPECT_EQ(FormatSyslogLine(Level::kInfo, std::string(kMaxSyslogMessage, 'b'), kJan2, 1).size(),
            prefix.size() + kMaxSyslogMessage);
}

TEST(SyslogWriterTest, SendsOneDatagramPerLine) {
  test::TempDir dir;
  Receiver receiver(dir.Sub("log"));
  SyslogWriter writer(dir.Sub("log"));
  ASSERT_TRUE(writer.Connect().ok());
  EXPECT_TRUE(writer.Send(Level::kError, "read /x: GET http://h/x: HTTP 500"));
  EXPECT_TRUE(writer.Send(Level::kInfo, "second"));
  auto first = receiver.Next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->substr(0, 4), "<27>");
  const std::string tail = " hubfs[" + std::to_string(::getpid()) + "]: read /x: GET http://h/x: HTTP 500";
  EXPECT_EQ(first->substr(first->size() - tail.size()), tail) << *first;
  auto second = receiver.Next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->substr(0, 4), "<30>");
  EXPECT_EQ(writer.sent(), 2u);
  EXPECT_EQ(writer.dropped(), 0u);
}

TEST(SyslogWriterTest, ConnectFailsForAMissingOrStreamSocket) {
  test::TempDir dir;
  SyslogWriter missing(dir.Sub("nothing"));
  Status s = missing.Connect();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir.Sub("nothing")), std::string::npos) << s.message();

  const std::string path = dir.Sub("stream");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  SyslogWriter stream(path);
  s = stream.Connect();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not a datagram socket"), std::string::npos) << s.message();
  ::close(fd);

  SyslogWriter too_long("/" + std::string(200, 'x'));
  EXPECT_FALSE(too_long.Connect().ok());
}

TEST(SyslogWriterTest, ReconnectsWhenTheLogDaemonRestarts) {
  test::TempDir dir;
  const std::string path = dir.Sub("log");
  auto receiver = std::make_unique<Receiver>(path);
  SyslogWriter writer(path);
  ASSERT_TRUE(writer.Connect().ok());
  ASSERT_TRUE(writer.Send(Level::kInfo, "before"));
  ASSERT_TRUE(receiver->Next());
  receiver.reset();                             // the daemon stops...
  receiver = std::make_unique<Receiver>(path);  // ...and binds the path again
  EXPECT_TRUE(writer.Send(Level::kInfo, "after"));
  auto line = receiver->Next();
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("]: after"), std::string::npos) << *line;
  EXPECT_EQ(writer.dropped(), 0u);
}

TEST(SyslogWriterTest, DropsWhileTheSocketIsGoneAndSaysSoLater) {
  test::TempDir dir;
  const std::string path = dir.Sub("log");
  auto receiver = std::make_unique<Receiver>(path);
  SyslogWriter writer(path);
  ASSERT_TRUE(writer.Connect().ok());
  receiver.reset();
  EXPECT_FALSE(writer.Send(Level::kError, "lost 1"));
  EXPECT_FALSE(writer.Send(Level::kError, "lost 2"));
  EXPECT_EQ(writer.dropped(), 2u);
  receiver = std::make_unique<Receiver>(path);
  // Reconnecting is tried at most once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_TRUE(writer.Send(Level::kInfo, "back"));
  auto note = receiver->Next();
  ASSERT_TRUE(note);
  EXPECT_EQ(note->substr(0, 4), "<28>");
  EXPECT_NE(note->find("]: 2 log line(s) were dropped: the syslog socket " + path + " was full or unavailable"),
            std::string::npos)
      << *note;
  auto line = receiver->Next();
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("]: back"), std::string::npos) << *line;
  EXPECT_EQ(writer.dropped(), 2u);
}

TEST(SyslogWriterTest, AFullSocketDropsLinesWithoutBlocking) {
  test::TempDir dir;
  Receiver receiver(dir.Sub("log"));  // never read until the end
  SyslogWriter writer(dir.Sub("log"));
  ASSERT_TRUE(writer.Connect().ok());
  const auto start = std::chrono::steady_clock::now();
  const std::string big(4000, 'x');
  int sent = 0;
  for (int i = 0; i < 5000; ++i) sent += writer.Send(Level::kInfo, big) ? 1 : 0;
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 5.0);
  EXPECT_GT(sent, 0);
  EXPECT_GT(writer.dropped(), 0u);
  EXPECT_EQ(writer.sent() + writer.dropped(), 5000u);
  ASSERT_TRUE(receiver.Next());
}

TEST(RedactTest, AuthorizationHeaderValuesAreMasked) {
  EXPECT_EQ(Redact("GET http://h/x: Authorization: Bearer hf_abcdefghijklmnop"),
            "GET http://h/x: Authorization: [REDACTED]");
  EXPECT_EQ(Redact("authorization:Basic dXNlcjpwYXNz"), "authorization: [REDACTED]");
  EXPECT_EQ(Redact("Proxy-Authorization: Basic abc\nnext line"), "Proxy-Authorization: [REDACTED]\nnext line");
  EXPECT_EQ(Redact(R"(headers {"Authorization": "Bearer secret", "Accept": "*/*"})"),
            R"(headers {"Authorization": [REDACTED])");
  EXPECT_EQ(Redact("AUTHORIZATION = token"), "AUTHORIZATION = [REDACTED]");
  // The word alone is no header.
  EXPECT_EQ(Redact("authorization failed: HTTP 401"), "authorization failed: HTTP 401");
}

TEST(RedactTest, HuggingFaceTokensAreMasked) {
  EXPECT_EQ(Redact("GET https://hf.co/x?token=hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567&a=1"),
            "GET https://hf.co/x?token=hf_[REDACTED]&a=1");
  EXPECT_EQ(Redact("hf_0123456789 and hf_abcdefghij."), "hf_[REDACTED] and hf_[REDACTED].");
  // Fewer than 10 letters and digits: not a token.
  EXPECT_EQ(Redact("hf_hub and hf_123456789"), "hf_hub and hf_123456789");
  EXPECT_EQ(Redact("nothing secret here"), "nothing secret here");
  EXPECT_EQ(Redact(""), "");
}

TEST(LoggingTest, ParseTarget) {
  Target t = Target::kStderr;
  EXPECT_TRUE(ParseTarget("auto", &t));
  EXPECT_EQ(t, Target::kAuto);
  EXPECT_TRUE(ParseTarget("syslog", &t));
  EXPECT_EQ(t, Target::kSyslog);
  EXPECT_TRUE(ParseTarget("file", &t));
  EXPECT_EQ(t, Target::kFile);
  EXPECT_TRUE(ParseTarget("stderr", &t));
  EXPECT_EQ(t, Target::kStderr);
  EXPECT_FALSE(ParseTarget("journal", &t));
  EXPECT_STREQ(TargetName(Target::kSyslog), "syslog");
}

// End to end through the process logger (this replaces its target for the rest of the test
// binary's process; ctest runs each test in its own).
TEST(LoggingTest, SyslogTargetGetsRedactedLinesWithTheirPriority) {
  test::TempDir dir;
  Receiver receiver(dir.Sub("log"));
  ASSERT_TRUE(LogToSyslog(dir.Sub("log")).ok());
  HUBFS_LOG_ERROR("read {}: GET {}: HTTP 500 (Authorization: Bearer {})", "/hf/m/x.bin", "http://127.0.0.1:1/x.bin",
                  "hf_SecretSecretSecret");
  auto line = receiver.Next();
  ASSERT_TRUE(line);
  EXPECT_EQ(line->substr(0, 4), "<27>");
  EXPECT_NE(line->find(" hubfs[" + std::to_string(::getpid()) +
                       "]: read /hf/m/x.bin: GET http://127.0.0.1:1/x.bin: HTTP 500 (Authorization: [REDACTED]"),
            std::string::npos)
      << *line;
  EXPECT_EQ(line->find("Secret"), std::string::npos) << *line;
  EXPECT_EQ(DroppedLines(), 0u);
  EXPECT_FALSE(LogToSyslog(dir.Sub("missing")).ok());
}

}  // namespace
}  // namespace hubfs::log
