#include "net/git/git_errors.h"

#include <fmt/format.h>
#include <git2.h>

#include <string>

namespace hubfs::net::git {
namespace {

Code CodeFor(int rc, int error_class) {
  switch (rc) {
    case GIT_ENOTFOUND:
      return Code::kNotFound;
    case GIT_EAUTH:
      return Code::kUnauthenticated;
    case GIT_EUSER:
      return Code::kCancelled;
    case GIT_ECERTIFICATE:
      return Code::kUnavailable;
    default:
      break;
  }
  switch (error_class) {
    case GIT_ERROR_NET:
    case GIT_ERROR_HTTP:
    case GIT_ERROR_SSL:
    case GIT_ERROR_SSH:
      return Code::kUnavailable;
    case GIT_ERROR_OS:
      return Code::kIoError;
    case GIT_ERROR_NOMEMORY:
      return Code::kResourceExhausted;
    case GIT_ERROR_ODB:
    case GIT_ERROR_OBJECT:
    case GIT_ERROR_TREE:
    case GIT_ERROR_INDEXER:
    case GIT_ERROR_ZLIB:
      return Code::kDataLoss;
    default:
      return Code::kInternal;
  }
}

}  // namespace

Status GitStatus(int rc, std::string_view context) {
  const git_error* last = git_error_last();
  const int error_class = last != nullptr ? last->klass : GIT_ERROR_NONE;
  std::string detail = (last != nullptr && last->message != nullptr)
                           ? std::string(last->message)
                           : fmt::format("libgit2 error {}", rc);
  return Status(CodeFor(rc, error_class), fmt::format("{}: {}", context, detail));
}

}  // namespace hubfs::net::git
