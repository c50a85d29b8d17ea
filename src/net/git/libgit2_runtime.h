// The process-wide libgit2 set-up, private to src/net/git/.
#pragma once

#include "hubfs/core/status.h"

namespace hubfs::net::git {

// Initialises libgit2 on the first call (git_libgit2_init; git_libgit2_shutdown runs when the
// process exits) and configures it for hubfs:
//  - every TCP connection goes through TimedSocketStream (timed_socket_stream.h);
//  - no git configuration file is read (system, XDG, global): a user's ~/.gitconfig must not
//    change what hubfs fetches or from where (url.insteadOf, http.proxy, ...);
//  - the user agent is "hubfs/<version>" (libgit2 prefixes "git/2.0 ");
//  - writes into git folders are fsync'ed, so a crash never leaves a ref to a missing pack.
// Returns the outcome of that set-up, the same on every call. Thread-safe.
Status EnsureLibGit2();

}  // namespace hubfs::net::git
