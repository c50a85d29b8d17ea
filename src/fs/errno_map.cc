#include "hubfs/fs/errno_map.h"

#include <cerrno>

namespace hubfs::fs {

int ErrnoFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk: return 0;
    case Code::kNotFound: return ENOENT;
    case Code::kUnauthenticated:
    case Code::kPermissionDenied: return EACCES;
    case Code::kInvalidArgument: return EINVAL;
    case Code::kCancelled: return EINTR;
    case Code::kFailedPrecondition: return ESTALE;
    case Code::kResourceExhausted: return ENOSPC;
    case Code::kOutOfRange:
    case Code::kRateLimited:
    case Code::kUnavailable:
    case Code::kDeadlineExceeded:
    case Code::kDataLoss:
    case Code::kIoError:
    case Code::kInternal: return EIO;
  }
  return EIO;
}

int ErrnoForXattr(const Status& status) {
  if (status.IsNotFound()) return ENODATA;
  // A namespace hubfs does not have (security.*, system.*): "not supported", which ls -l
  // remembers per file system instead of asking again for every entry.
  if (status.code() == Code::kInvalidArgument) return EOPNOTSUPP;
  return ErrnoFor(status);
}

}  // namespace hubfs::fs
