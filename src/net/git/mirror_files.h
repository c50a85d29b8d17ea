// hubfs' own files inside a mirror folder, private to src/net/git/: the fetch lock and the
// time of the last successful fetch. Neither needs libgit2.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "hubfs/core/result.h"

namespace hubfs::net::git {

// An exclusive flock() on a lock file, held until destruction. The kernel drops it when the
// process dies, so a crashed fetch never leaves the mirror locked.
class MirrorLock {
 public:
  // Creates `path` if needed and waits for the lock until `deadline` (polling, so a holder that
  // hangs cannot hang us). kDeadlineExceeded when it stays taken, kIoError when the file
  // cannot be opened.
  static Result<MirrorLock> Acquire(const std::string& path,
                                    std::chrono::steady_clock::time_point deadline);

  MirrorLock(MirrorLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  MirrorLock& operator=(MirrorLock&&) = delete;
  MirrorLock(const MirrorLock&) = delete;
  MirrorLock& operator=(const MirrorLock&) = delete;
  ~MirrorLock();

 private:
  explicit MirrorLock(int fd) : fd_(fd) {}
  int fd_;
};

// Seconds since the epoch stored in `path`; 0 when the file is missing or unreadable (which
// only costs an extra fetch).
int64_t ReadFetchStamp(const std::string& path);

// Replaces `path` atomically (write a temporary file, fsync, rename) with `seconds`.
Status WriteFetchStamp(const std::string& path, int64_t seconds);

}  // namespace hubfs::net::git
