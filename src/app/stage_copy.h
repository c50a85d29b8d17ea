// One file of `hubfs stage`: copies a file of a mount to its place in the staging folder, or
// finds that it is there already (docs/staging.md).
//
// Never a partial file under the final name: the bytes go to a temporary file beside it, which is
// synced and renamed over the destination only once complete and hashed; on any failure (or a
// stop) the temporary file is removed. The copy gets the source's mtime and, where the
// destination's filesystem takes user attributes, user.hubfs.sha256 with its sha256, so that a
// later run recognises it without reading it again.
//
// Why a copy (read + write), not a reflink or hard link: the source is a FUSE file (FUSE has no
// FICLONE, and copy_file_range between filesystems falls back to the same copy), and the cache's
// blob behind it cannot be linked either: it is a sparse file in a private (0700) folder, with the
// bytes of one file but not necessarily only them, and evicted at any time. Reading through the
// mount also fills and verifies the cache, and the copy is hashed on the way.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <functional>
#include <string>

#include "hubfs/core/result.h"

namespace hubfs::app {

struct StageCopyRequest {
  std::string source;  // a regular file (in a mount; any file works)
  std::string dest;    // the final path; its folder is created when missing
  std::string temp;    // the temporary path, in dest's folder
  // The source's sha256 (64 hex digits) when known, "" when not. Asked before (does dest hold it
  // already?) and after the copy (a file whose digest is pinned on first use knows it then).
  std::function<std::string()> sha256;
  std::function<void(uint64_t bytes)> progress;  // bytes copied so far
  const std::atomic<bool>* stop = nullptr;       // set: give up (kCancelled), removing the temp file
};

enum class StageOutcome { kCopied, kUpToDate };

// Errors: the source cannot be read (its errno), it ended early, its bytes do not match its
// sha256 (kDataLoss), dest exists and is not a regular file (kFailedPrecondition), or the
// destination cannot be written.
Result<StageOutcome> StageCopy(const StageCopyRequest& request);

// The sha256 (hex) of the regular file at `path`: its user.hubfs.sha256 attribute when that is
// there and its mtime is `mtime` (as StageCopy left it), else by reading it. "" when unreadable.
std::string StagedSha256(const std::string& path, const struct timespec& mtime);

}  // namespace hubfs::app
