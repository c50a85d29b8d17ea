// Open-file-description locks (F_OFD_SETLK) on blob files, and hole punching. Private to
// src/cache/. OFD locks belong to an open file, not a process, and vanish when it is closed or
// its process dies, so a crashed daemon never leaves a lock behind.
//
//   byte kInUseOffset           shared while a Blob is open; eviction needs it exclusive
//   byte i * kBlockSize         exclusive while a process fetches block i
#pragma once

#include <cstdint>

#include "hubfs/core/status.h"

namespace hubfs::cache {

inline constexpr uint64_t kInUseOffset = uint64_t{1} << 62;

// Takes the shared in-use lock; with `wait`, blocks while an evictor holds it.
Status LockInUse(int fd, bool wait);
// Takes the exclusive in-use lock without waiting; kFailedPrecondition when the blob is open.
Status LockEvict(int fd);
// Exclusive lock on one byte at `offset`, waiting for other processes.
Status LockByte(int fd, uint64_t offset);
void UnlockByte(int fd, uint64_t offset);
// Frees the disk space of [offset, offset+length) without changing the file size.
void PunchHole(int fd, uint64_t offset, uint64_t length);

}  // namespace hubfs::cache
