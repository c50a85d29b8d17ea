#include "hubfs/core/status.h"

#include <cstring>

namespace hubfs {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound";
    case Code::kPermissionDenied: return "PermissionDenied";
    case Code::kUnauthenticated: return "Unauthenticated";
    case Code::kRateLimited: return "RateLimited";
    case Code::kUnavailable: return "Unavailable";
    case Code::kDeadlineExceeded: return "DeadlineExceeded";
    case Code::kCancelled: return "Cancelled";
    case Code::kDataLoss: return "DataLoss";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kOutOfRange: return "OutOfRange";
    case Code::kFailedPrecondition: return "FailedPrecondition";
    case Code::kResourceExhausted: return "ResourceExhausted";
    case Code::kIoError: return "IoError";
    case Code::kInternal: return "Internal";
  }
  return "Unknown";
}

Status::Status(Code code, std::string message) {
  if (code != Code::kOk) rep_ = std::make_shared<const Rep>(Rep{code, std::move(message), 0});
}

Status Status::FromErrno(int err, std::string_view what) {
  return Status(Code::kIoError, std::string(what) + ": " + std::strerror(err));
}

Code Status::code() const noexcept { return rep_ ? rep_->code : Code::kOk; }

const std::string& Status::message() const noexcept {
  static const std::string kEmpty;
  return rep_ ? rep_->message : kEmpty;
}

int Status::http_status() const noexcept { return rep_ ? rep_->http_status : 0; }

Status Status::WithHttpStatus(int http_status) const {
  if (!rep_) return *this;
  Status s;
  s.rep_ = std::make_shared<const Rep>(Rep{rep_->code, rep_->message, http_status});
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (!rep_) return *this;
  Status s;
  s.rep_ = std::make_shared<const Rep>(
      Rep{rep_->code, std::string(context) + ": " + rep_->message, rep_->http_status});
  return s;
}

std::string Status::ToString() const {
  if (!rep_) return "OK";
  return std::string(CodeName(rep_->code)) + ": " + rep_->message;
}

}  // namespace hubfs
