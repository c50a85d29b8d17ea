#include "hubfs/core/status.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "hubfs/core/result.h"

namespace hubfs {
namespace {

TEST(StatusTest, DefaultIsOkWithEmptyMessage) {
  const Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), Code::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.http_status(), 0);
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(StatusTest, ConstructingWithOkCodeDropsTheMessage) {
  const Status s(Code::kOk, "ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, FactoriesSetCodeAndMessage) {
  struct Case {
    Status status;
    Code code;
    const char* name;
  };
  const Case cases[] = {
      {Status::NotFound("m"), Code::kNotFound, "NotFound"},
      {Status::PermissionDenied("m"), Code::kPermissionDenied, "PermissionDenied"},
      {Status::Unauthenticated("m"), Code::kUnauthenticated, "Unauthenticated"},
      {Status::RateLimited("m"), Code::kRateLimited, "RateLimited"},
      {Status::Unavailable("m"), Code::kUnavailable, "Unavailable"},
      {Status::DeadlineExceeded("m"), Code::kDeadlineExceeded, "DeadlineExceeded"},
      {Status::Cancelled("m"), Code::kCancelled, "Cancelled"},
      {Status::DataLoss("m"), Code::kDataLoss, "DataLoss"},
      {Status::InvalidArgument("m"), Code::kInvalidArgument, "InvalidArgument"},
      {Status::OutOfRange("m"), Code::kOutOfRange, "OutOfRange"},
      {Status::FailedPrecondition("m"), Code::kFailedPrecondition, "FailedPrecondition"},
      {Status::ResourceExhausted("m"), Code::kResourceExhausted, "ResourceExhausted"},
      {Status::IoError("m"), Code::kIoError, "IoError"},
      {Status::Internal("m"), Code::kInternal, "Internal"},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(c.status.ok()) << c.name;
    EXPECT_EQ(c.status.code(), c.code) << c.name;
    EXPECT_EQ(c.status.message(), "m") << c.name;
    EXPECT_EQ(CodeName(c.code), c.name);
    EXPECT_EQ(c.status.ToString(), std::string(c.name) + ": m");
    EXPECT_EQ(c.status.http_status(), 0) << c.name;
  }
}

TEST(StatusTest, CodeNameOfOkAndOfAnUnknownValue) {
  EXPECT_EQ(CodeName(Code::kOk), "OK");
  EXPECT_EQ(CodeName(static_cast<Code>(999)), "Unknown");
}

TEST(StatusTest, PredicatesMatchOnlyTheirCode) {
  EXPECT_TRUE(Status::NotFound("x").IsNotFound());
  EXPECT_FALSE(Status::NotFound("x").IsDataLoss());
  EXPECT_TRUE(Status::DataLoss("x").IsDataLoss());
  EXPECT_FALSE(Status::DataLoss("x").IsNotFound());
  EXPECT_FALSE(Status().IsNotFound());
  EXPECT_FALSE(Status().IsDataLoss());
}

TEST(StatusTest, FromErrnoIsIoErrorWithStrerror) {
  const Status s = Status::FromErrno(ENOENT, "open /x");
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_EQ(s.message(), std::string("open /x: ") + std::strerror(ENOENT));
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCodeAndHttpStatus) {
  const Status base = Status::NotFound("GET http://h/x: HTTP 404").WithHttpStatus(404);
  const Status s = base.WithContext("manifest");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "manifest: GET http://h/x: HTTP 404");
  EXPECT_EQ(s.http_status(), 404);
  EXPECT_EQ(s.ToString(), "NotFound: manifest: GET http://h/x: HTTP 404");
  // The original value is unchanged.
  EXPECT_EQ(base.message(), "GET http://h/x: HTTP 404");
}

TEST(StatusTest, WithContextNests) {
  const Status s = Status::DataLoss("bad").WithContext("inner").WithContext("outer");
  EXPECT_EQ(s.message(), "outer: inner: bad");
}

TEST(StatusTest, WithHttpStatusKeepsCodeAndMessageAndLeavesOriginal) {
  const Status base = Status::Unavailable("down");
  const Status s = base.WithHttpStatus(503);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "down");
  EXPECT_EQ(s.http_status(), 503);
  EXPECT_EQ(base.http_status(), 0);
}

TEST(StatusTest, OkStaysOkUnderContextAndHttpStatus) {
  EXPECT_TRUE(Status().WithContext("ctx").ok());
  EXPECT_EQ(Status().WithContext("ctx").message(), "");
  EXPECT_TRUE(Status().WithHttpStatus(500).ok());
  EXPECT_EQ(Status().WithHttpStatus(500).http_status(), 0);
}

TEST(StatusTest, CopiesAreEqualValues) {
  const Status a = Status::Internal("boom").WithHttpStatus(500);
  const Status b = a;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(b.code(), Code::kInternal);
  EXPECT_EQ(b.message(), "boom");
  EXPECT_EQ(b.http_status(), 500);
}

// --- Result -----------------------------------------------------------------------------------

TEST(ResultTest, HoldsAValue) {
  Result<int> r = 42;
  EXPECT_TRUE(r.has_value());
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(r.status().ok());
}

TEST(ResultTest, HoldsAnError) {
  Result<int> r = Status::NotFound("gone");
  EXPECT_FALSE(r.has_value());
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_EQ(r.error().message(), "gone");
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

TEST(ResultTest, ArrowAndMutationReachTheValue) {
  Result<std::string> r = std::string("abc");
  EXPECT_EQ(r->size(), 3u);
  r->push_back('d');
  *r += "e";
  EXPECT_EQ(r.value(), "abcde");
  const Result<std::string>& cr = r;
  EXPECT_EQ(cr->size(), 5u);
  EXPECT_EQ(*cr, "abcde");
}

TEST(ResultTest, MovesAMoveOnlyValueOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
  Result<std::unique_ptr<int>> r2 = std::make_unique<int>(8);
  std::unique_ptr<int> q = *std::move(r2);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(*q, 8);
}

TEST(ResultDeathTest, BuildingFromOkStatusAsserts) {
  EXPECT_DEBUG_DEATH(
      {
        Result<int> r = Status();
        (void)r;
      },
      "OK Status");
}

Status FailIf(bool fail, int* reached) {
  HUBFS_RETURN_IF_ERROR(fail ? Status::Cancelled("stop") : Status());
  ++*reached;
  return Status();
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheErrorAndSkipsTheRest) {
  int reached = 0;
  const Status s = FailIf(true, &reached);
  EXPECT_EQ(s.code(), Code::kCancelled);
  EXPECT_EQ(s.message(), "stop");
  EXPECT_EQ(reached, 0);
}

TEST(StatusMacrosTest, ReturnIfErrorContinuesOnOk) {
  int reached = 0;
  EXPECT_TRUE(FailIf(false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

// Uses the macro twice in one function to check the temporaries do not clash.
Result<int> Quarter(int x, int* calls) {
  HUBFS_ASSIGN_OR_RETURN(int half, Half(x));
  ++*calls;
  HUBFS_ASSIGN_OR_RETURN(int quarter, Half(half));
  ++*calls;
  return quarter;
}

TEST(StatusMacrosTest, AssignOrReturnAssignsValues) {
  int calls = 0;
  Result<int> r = Quarter(12, &calls);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 3);
  EXPECT_EQ(calls, 2);
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesTheFirstError) {
  int calls = 0;
  Result<int> r = Quarter(7, &calls);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "odd: 7");
  EXPECT_EQ(calls, 0);
}

TEST(StatusMacrosTest, AssignOrReturnPropagatesALaterError) {
  int calls = 0;
  Result<int> r = Quarter(6, &calls);  // 6 -> 3 -> odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "odd: 3");
  EXPECT_EQ(calls, 1);
}

Result<std::unique_ptr<int>> MakeBox(int v) { return std::make_unique<int>(v); }

Result<int> Unbox(int v) {
  HUBFS_ASSIGN_OR_RETURN(std::unique_ptr<int> box, MakeBox(v));
  return *box;
}

TEST(StatusMacrosTest, AssignOrReturnMovesMoveOnlyValues) {
  Result<int> r = Unbox(5);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
}

Status AssignToExisting(std::string* out) {
  HUBFS_ASSIGN_OR_RETURN(*out, Result<std::string>(std::string("set")));
  return Status();
}

TEST(StatusMacrosTest, AssignOrReturnAssignsToAnExistingLvalue) {
  std::string out = "unset";
  EXPECT_TRUE(AssignToExisting(&out).ok());
  EXPECT_EQ(out, "set");
}

}  // namespace
}  // namespace hubfs
