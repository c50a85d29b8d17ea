// A replacement for libgit2's plain TCP stream whose every blocking step has a deadline.
//
// Why: libgit2 1.5 has no connect or read timeout (GIT_OPT_SET_SERVER_{CONNECT_,}TIMEOUT only
// arrived in 1.7), and its progress callbacks run only when bytes arrive, so a server that
// accepts the connection and then says nothing would block a fetch forever. libgit2 creates
// every TCP connection (http, git://, the proxy hop, and the socket under TLS) through the
// GIT_STREAM_STANDARD registration, so registering this stream bounds all of them.
//
// The deadline is per thread: a NetworkDeadline scope around a libgit2 network call sets it.
// Outside any scope each socket operation gets kUnscopedIoTimeout on its own.
// getaddrinfo() cannot be bounded here; it is limited by the resolver's configuration.
//
// Thread-safety: streams are used by one thread at a time (libgit2's contract); the deadline is
// thread-local.
#pragma once

#include <chrono>

#include "hubfs/core/status.h"

namespace hubfs::net::git {

inline constexpr std::chrono::seconds kUnscopedIoTimeout{30};

// While alive, socket operations on this thread fail once `deadline` has passed. Scopes do not
// nest (a nested scope replaces the outer deadline until it ends).
class NetworkDeadline {
 public:
  explicit NetworkDeadline(std::chrono::steady_clock::time_point deadline);
  ~NetworkDeadline();
  NetworkDeadline(const NetworkDeadline&) = delete;
  NetworkDeadline& operator=(const NetworkDeadline&) = delete;

  // True once a socket operation of this scope gave up because the deadline passed.
  bool expired() const;
};

// Registers the stream with libgit2 (git_stream_register). Call once, after git_libgit2_init.
Status RegisterTimedSocketStream();

}  // namespace hubfs::net::git
