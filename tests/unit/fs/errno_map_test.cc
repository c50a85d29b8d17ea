#include "hubfs/fs/errno_map.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <iterator>

namespace hubfs::fs {
namespace {

TEST(ErrnoMapTest, OkIsZero) { EXPECT_EQ(ErrnoFor(Status()), 0); }

TEST(ErrnoMapTest, EveryCodeHasItsErrno) {
  struct Case {
    Code code;
    int err;
  };
  const Case cases[] = {
      {Code::kNotFound, ENOENT},
      {Code::kUnauthenticated, EACCES},
      {Code::kPermissionDenied, EACCES},
      {Code::kInvalidArgument, EINVAL},
      {Code::kCancelled, EINTR},
      {Code::kFailedPrecondition, ESTALE},
      {Code::kResourceExhausted, ENOSPC},
      {Code::kRateLimited, EIO},
      {Code::kUnavailable, EIO},
      {Code::kDeadlineExceeded, EIO},
      {Code::kDataLoss, EIO},
      {Code::kOutOfRange, EIO},
      {Code::kIoError, EIO},
      {Code::kInternal, EIO},
  };
  // The table covers every error code (kInternal is the last one).
  EXPECT_EQ(std::size(cases), static_cast<size_t>(Code::kInternal));
  for (const Case& c : cases) {
    EXPECT_EQ(ErrnoFor(Status(c.code, "x")), c.err) << CodeName(c.code);
  }
}

TEST(ErrnoMapTest, HttpStatusDoesNotChangeTheMapping) {
  EXPECT_EQ(ErrnoFor(Status::NotFound("gone").WithHttpStatus(404)), ENOENT);
  EXPECT_EQ(ErrnoFor(Status::Unavailable("down").WithHttpStatus(404)), EIO);
}

TEST(ErrnoMapTest, ContextDoesNotChangeTheMapping) {
  EXPECT_EQ(ErrnoFor(Status::PermissionDenied("gated").WithContext("reading /hub/x")), EACCES);
}

TEST(ErrnoMapTest, XattrCallsHaveTheirOwnMissingAndUnsupported) {
  EXPECT_EQ(ErrnoForXattr(Status::NotFound("no attribute")), ENODATA);
  // security.* / system.* names: "not supported" lets ls -l stop asking per entry.
  EXPECT_EQ(ErrnoForXattr(Status::InvalidArgument("only user.hubfs.*")), EOPNOTSUPP);
  EXPECT_EQ(ErrnoForXattr(Status::IoError("disk")), EIO);
}

}  // namespace
}  // namespace hubfs::fs
