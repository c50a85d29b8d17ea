// Status: the outcome of an operation, as a value. OK is free (no allocation); an error carries a
// Code, a message with context, and optionally the HTTP status that caused it.
//
// Errors travel upward as Status/Result and become an errno in exactly one place
// (fs/errno_map.h). Lower layers return errors with context instead of logging them, so each
// failure is logged once, where it is turned into an errno.
//
// Thread-safety: a Status is an immutable value; copies may be used from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace hubfs {

enum class Code {
  kOk = 0,
  kNotFound,            // the hub/server says the thing does not exist (HTTP 404/410)
  kPermissionDenied,    // HTTP 403, gated content
  kUnauthenticated,     // HTTP 401
  kRateLimited,         // HTTP 429 after retries
  kUnavailable,         // 5xx, connection refused, DNS failure
  kDeadlineExceeded,    // timeout
  kCancelled,           // interrupted by the caller or shutdown
  kDataLoss,            // digest mismatch, malformed document, truncated body
  kInvalidArgument,     // bad input from the user (config, command line)
  kOutOfRange,
  kFailedPrecondition,  // remote object changed under us
  kResourceExhausted,   // cache full, body too large
  kIoError,             // local disk I/O failed
  kInternal,            // a bug
};

std::string_view CodeName(Code code);

class Status {
 public:
  Status() noexcept = default;  // OK
  Status(Code code, std::string message);

  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
  static Status RateLimited(std::string m) { return {Code::kRateLimited, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
  static Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
  static Status DataLoss(std::string m) { return {Code::kDataLoss, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {Code::kOutOfRange, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {Code::kFailedPrecondition, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  // An I/O error from a failed system call: appends strerror(err).
  static Status FromErrno(int err, std::string_view what);
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const noexcept { return rep_ == nullptr; }
  Code code() const noexcept;
  // The message without the code name; empty when OK.
  const std::string& message() const noexcept;
  // HTTP status behind this error, 0 if none.
  int http_status() const noexcept;
  Status WithHttpStatus(int http_status) const;
  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;
  // "NotFound: GET http://…: HTTP 404", or "OK".
  std::string ToString() const;

  bool IsNotFound() const noexcept { return code() == Code::kNotFound; }
  bool IsDataLoss() const noexcept { return code() == Code::kDataLoss; }

 private:
  struct Rep {
    Code code;
    std::string message;
    int http_status = 0;
  };
  std::shared_ptr<const Rep> rep_;  // null when OK
};

}  // namespace hubfs

// Returns from the enclosing function if `expr` (a Status) is an error.
#define HUBFS_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::hubfs::Status hubfs_status_ = (expr);      \
    if (!hubfs_status_.ok()) return hubfs_status_; \
  } while (0)
