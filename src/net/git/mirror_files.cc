#include "net/git/mirror_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <string_view>
#include <thread>

namespace hubfs::net::git {
namespace {

using Clock = std::chrono::steady_clock;

// The longest sleep between two attempts to take a lock someone else holds.
constexpr std::chrono::milliseconds kMaxLockPoll{100};

}  // namespace

Result<MirrorLock> MirrorLock::Acquire(const std::string& path, Clock::time_point deadline) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, fmt::format("open {}", path));
  std::chrono::milliseconds pause{5};
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return MirrorLock(fd);
    const int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK) {
      ::close(fd);
      return Status::FromErrno(err, fmt::format("flock {}", path));
    }
    if (Clock::now() + pause > deadline) {
      ::close(fd);
      return Status::DeadlineExceeded(
          fmt::format("{} is held by another fetch of this mirror", path));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, kMaxLockPoll);
  }
}

MirrorLock::~MirrorLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

int64_t ReadFetchStamp(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!in || !std::getline(in, text)) return 0;
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || seconds < 0) return 0;
  return seconds;
}

Status WriteFetchStamp(const std::string& path, int64_t seconds) {
  const std::string temp = fmt::format("{}.tmp.{}", path, ::getpid());
  const std::string text = fmt::format("{}\n", seconds);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno(errno, fmt::format("open {}", temp));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int write_errno = errno;
  const bool synced = written && ::fsync(fd) == 0;
  const int sync_errno = errno;
  ::close(fd);
  if (!written || !synced || ::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = !written ? write_errno : !synced ? sync_errno : errno;
    ::unlink(temp.c_str());
    return Status::FromErrno(err, fmt::format("write {}", path));
  }
  return Status::Ok();
}

}  // namespace hubfs::net::git
