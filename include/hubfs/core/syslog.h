// Syslog: log lines as datagrams to the local syslog socket (/dev/log, which rsyslog and
// journald both serve), written by hubfs itself rather than through syslog(3), so that the
// caller is never blocked by a slow or absent log daemon.
//
// Each line is one datagram in the local RFC 3164 form that glibc's syslog(3) sends:
//
//   <PRI>Mmm dd hh:mm:ss hubfs[PID]: message
//
// PRI = facility * 8 + severity, with facility daemon (3) and severity err (3), warning (4),
// info (6) or debug (7): an error is <27>, an info line <30>. The timestamp is local time; the
// message is one line (control characters become spaces) of at most kMaxSyslogMessage bytes.
//
// Sending never blocks: the socket is non-blocking, and a line the socket cannot take (its
// buffer is full, or the log daemon is gone) is dropped and counted. When the receiver went
// away (rsyslog or journald restarted), the writer reconnects, at most once per second, and
// the first line that gets through again is preceded by a line saying how many were dropped.
//
// Thread-safety: SyslogWriter may be used from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <string>
#include <string_view>

#include "hubfs/core/logging.h"
#include "hubfs/core/status.h"

namespace hubfs::log {

inline constexpr int kSyslogFacilityDaemon = 3;
// Longer messages are cut (at a UTF-8 character boundary) and end with "...". rsyslog's
// default limit for a whole message is 8 KiB.
inline constexpr size_t kMaxSyslogMessage = 8000;

// facility daemon * 8 + the level's severity.
int SyslogPriority(Level level);
// The datagram for one line: "<PRI>Mmm dd hh:mm:ss TAG[PID]: message" (`when` in local time).
std::string FormatSyslogLine(Level level, std::string_view message, std::time_t when, int pid,
                             std::string_view tag = "hubfs");

class SyslogWriter {
 public:
  explicit SyslogWriter(std::string socket_path, std::string tag = "hubfs");
  ~SyslogWriter();
  SyslogWriter(const SyslogWriter&) = delete;
  SyslogWriter& operator=(const SyslogWriter&) = delete;

  // Connects to the socket now; an error (naming the socket) when it does not exist, is not a
  // datagram socket or nobody listens on it.
  Status Connect();
  // Sends one line; returns false when it was dropped. Never waits for the receiver.
  bool Send(Level level, std::string_view message);

  const std::string& socket_path() const { return path_; }
  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  Status ConnectLocked();          // mu_ held
  bool SendLocked(const std::string& datagram, bool* receiver_gone);  // mu_ held

  const std::string path_;
  const std::string tag_;
  std::mutex mu_;
  int fd_ = -1;                                         // guarded by mu_
  std::chrono::steady_clock::time_point next_reconnect_{};  // guarded by mu_
  uint64_t unreported_drops_ = 0;                       // guarded by mu_
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace hubfs::log
