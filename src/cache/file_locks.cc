#include "file_locks.h"

#include <fcntl.h>
#include <linux/falloc.h>

#include <cerrno>

namespace hubfs::cache {
namespace {

Status SetLock(int fd, short type, uint64_t offset, bool wait, const char* what) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = static_cast<off_t>(offset);
  lock.l_len = 1;
  lock.l_pid = 0;  // required for OFD locks
  while (::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &lock) != 0) {
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EACCES) return Status::FailedPrecondition(what);
    return Status::FromErrno(errno, what);
  }
  return Status();
}

}  // namespace

Status LockInUse(int fd, bool wait) { return SetLock(fd, F_RDLCK, kInUseOffset, wait, "blob in-use lock"); }

Status LockEvict(int fd) { return SetLock(fd, F_WRLCK, kInUseOffset, false, "blob is open"); }

Status LockByte(int fd, uint64_t offset) { return SetLock(fd, F_WRLCK, offset, true, "block lock"); }

void UnlockByte(int fd, uint64_t offset) { (void)SetLock(fd, F_UNLCK, offset, false, "block unlock"); }

void PunchHole(int fd, uint64_t offset, uint64_t length) {
  // Best effort: a filesystem without hole punching keeps the bytes, which the index no longer
  // counts or trusts.
  (void)::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(length));
}

}  // namespace hubfs::cache
