// The one table from Status to errno. Only the FUSE adapter calls it.
#pragma once

#include "hubfs/core/status.h"

namespace hubfs::fs {

// Returns the positive errno that reports `status` to a process; 0 for OK.
//   kNotFound -> ENOENT; kUnauthenticated, kPermissionDenied -> EACCES; kInvalidArgument -> EINVAL;
//   kCancelled -> EINTR; kFailedPrecondition -> ESTALE; kResourceExhausted -> ENOSPC;
//   everything else (network failures after retries, digest mismatches, disk errors, bugs) -> EIO.
int ErrnoFor(const Status& status);
// The same for the xattr calls, where a missing attribute is ENODATA, not ENOENT, and a name in
// a namespace hubfs does not have (kInvalidArgument) is EOPNOTSUPP.
int ErrnoForXattr(const Status& status);

}  // namespace hubfs::fs
