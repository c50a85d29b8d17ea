// The one mapping from a failed libgit2 call to a Status, private to src/net/git/.
#pragma once

#include <string_view>

#include "hubfs/core/status.h"

namespace hubfs::net::git {

// `rc` is the negative return value of a libgit2 call made on this thread just before. The
// message is "<context>: <git_error_last() message>"; the code comes from `rc` and the error
// class: GIT_ENOTFOUND -> kNotFound, GIT_EAUTH -> kUnauthenticated, GIT_EUSER -> kCancelled,
// network/HTTP/TLS/SSH classes -> kUnavailable, OS -> kIoError, object/pack/zlib classes ->
// kDataLoss, out of memory -> kResourceExhausted, anything else -> kInternal.
Status GitStatus(int rc, std::string_view context);

}  // namespace hubfs::net::git
