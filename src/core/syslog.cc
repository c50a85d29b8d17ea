#include "hubfs/core/syslog.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace hubfs::log {
namespace {

constexpr auto kReconnectInterval = std::chrono::seconds(1);

int Severity(Level level) {
  switch (level) {
    case Level::kError: return 3;
    case Level::kWarn: return 4;
    case Level::kInfo: return 6;
    case Level::kDebug: return 7;
  }
  return 6;
}

// One line: control characters (a newline in a server's error text, say) become spaces, and a
// long message is cut at a character boundary.
std::string OneLine(std::string_view message) {
  std::string out;
  const bool cut = message.size() > kMaxSyslogMessage;
  if (cut) {
    size_t end = kMaxSyslogMessage;
    while (end > 0 && (static_cast<unsigned char>(message[end]) & 0xC0) == 0x80) --end;
    message = message.substr(0, end);
  }
  out.reserve(message.size() + 3);
  for (char c : message) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7F ? ' ' : c);
  }
  if (cut) out += "...";
  return out;
}

bool ReceiverGone(int err) {
  return err == ECONNREFUSED || err == ENOTCONN || err == ENOENT || err == EPIPE || err == ECONNRESET ||
         err == EDESTADDRREQ || err == EBADF;
}

}  // namespace

int SyslogPriority(Level level) { return kSyslogFacilityDaemon * 8 + Severity(level); }

std::string FormatSyslogLine(Level level, std::string_view message, std::time_t when, int pid, std::string_view tag) {
  // Month names by hand: strftime's %b follows the locale, syslog wants English.
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  ::localtime_r(&when, &tm);
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%s %2d %02d:%02d:%02d", kMonths[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  std::string out = "<" + std::to_string(SyslogPriority(level)) + ">" + stamp + " ";
  out.append(tag);
  out += "[" + std::to_string(pid) + "]: ";
  out += OneLine(message);
  return out;
}

SyslogWriter::SyslogWriter(std::string socket_path, std::string tag)
    : path_(std::move(socket_path)), tag_(std::move(tag)) {}

SyslogWriter::~SyslogWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status SyslogWriter::Connect() {
  std::lock_guard lock(mu_);
  return ConnectLocked();
}

Status SyslogWriter::ConnectLocked() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.empty() || path_.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("syslog socket '" + path_ + "': not a usable socket path (1 to " +
                                   std::to_string(sizeof addr.sun_path - 1) + " bytes)");
  }
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::FromErrno(errno, "syslog socket " + path_ + ": socket");
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EPROTOTYPE) {
      return Status::InvalidArgument("syslog socket " + path_ + " is not a datagram socket");
    }
    return Status::FromErrno(err, "syslog socket " + path_);
  }
  fd_ = fd;
  return Status();
}

bool SyslogWriter::SendLocked(const std::string& datagram, bool* receiver_gone) {
  *receiver_gone = false;
  if (fd_ < 0) {
    *receiver_gone = true;
    return false;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (::send(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) return true;
    if (errno == EINTR) continue;
    *receiver_gone = ReceiverGone(errno);
    return false;  // EAGAIN/ENOBUFS: the receiver's queue is full; EMSGSIZE: too long
  }
  return false;
}

bool SyslogWriter::Send(Level level, std::string_view message) {
  const std::string line = FormatSyslogLine(level, message, std::time(nullptr), static_cast<int>(::getpid()), tag_);
  std::lock_guard lock(mu_);
  auto send = [&](const std::string& datagram) {
    bool gone = false;
    if (SendLocked(datagram, &gone)) return true;
    if (!gone) return false;
    // The log daemon went away (or was never reached): reconnect, not more than once a second,
    // so that a missing socket costs one failed send per line, not a connect each time.
    const auto now = std::chrono::steady_clock::now();
    if (now < next_reconnect_) return false;
    if (!ConnectLocked().ok()) {
      next_reconnect_ = now + kReconnectInterval;
      return false;
    }
    return SendLocked(datagram, &gone);
  };
  if (unreported_drops_ > 0) {
    const std::string note = FormatSyslogLine(
        Level::kWarn,
        std::to_string(unreported_drops_) + " log line(s) were dropped: the syslog socket " + path_ +
            " was full or unavailable",
        std::time(nullptr), static_cast<int>(::getpid()), tag_);
    if (send(note)) unreported_drops_ = 0;
  }
  if (unreported_drops_ == 0 && send(line)) {
    sent_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  ++unreported_drops_;
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

}  // namespace hubfs::log
