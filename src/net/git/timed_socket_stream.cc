// TimedSocketStream: non-blocking sockets driven by poll() against the thread's deadline.
#include "net/git/timed_socket_stream.h"

#include <fmt/format.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace hubfs::net::git {
namespace {

using Clock = std::chrono::steady_clock;

struct ThreadDeadline {
  bool scoped = false;
  Clock::time_point deadline{};
  bool expired = false;
};
thread_local ThreadDeadline t_deadline;

// The deadline for a socket operation starting now.
Clock::time_point OperationDeadline() {
  return t_deadline.scoped ? t_deadline.deadline : Clock::now() + kUnscopedIoTimeout;
}

// libgit2 reports our failures through its thread-local error, like its own streams do.
int Fail(const std::string& message) {
  git_error_set_str(GIT_ERROR_NET, message.c_str());
  return -1;
}

enum class Wait { kReady, kTimedOut, kFailed };

// Waits until `fd` is ready for `events` or `deadline` passes.
Wait WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      if (t_deadline.scoped) t_deadline.expired = true;
      return Wait::kTimedOut;
    }
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 60'000)));
    if (n > 0) return Wait::kReady;  // POLLERR/POLLHUP too: the next call reports them
    if (n < 0 && errno != EINTR) return Wait::kFailed;
  }
}

// Stream state in C++ terms; TimedSocketStream below is the C-compatible shell libgit2 sees.
struct StreamState {
  std::string host;
  std::string port;
  int fd = -1;

  std::string Where() const { return fmt::format("{}:{}", host, port); }

  void CloseSocket() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }

  // Tries one resolved address. 0 with fd set, or an errno (ETIMEDOUT when out of time).
  int ConnectTo(const addrinfo& ai, Clock::time_point deadline) {
    int s = ::socket(ai.ai_family, ai.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai.ai_protocol);
    if (s < 0) return errno;
    int err = 0;
    if (::connect(s, ai.ai_addr, ai.ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        Wait w = WaitFor(s, POLLOUT, deadline);
        socklen_t len = sizeof(err);
        if (w == Wait::kTimedOut) {
          err = ETIMEDOUT;
        } else if (w == Wait::kFailed || ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
      }
    }
    if (err != 0) {
      ::close(s);
      return err;
    }
    fd = s;
    return 0;
  }
};

// Standard layout (a C struct and a pointer), so libgit2 may treat a pointer to it as a pointer
// to its first member.
struct TimedSocketStream {
  git_stream base;
  StreamState* state;
};

StreamState& StateOf(git_stream* stream) {
  return *reinterpret_cast<TimedSocketStream*>(stream)->state;
}

int StreamConnect(git_stream* stream) {
  StreamState& st = StateOf(stream);
  const Clock::time_point deadline = OperationDeadline();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(st.host.c_str(), st.port.c_str(), &hints, &found); rc != 0) {
    return Fail(fmt::format("cannot resolve {}: {}", st.Where(), ::gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);
  int err = EADDRNOTAVAIL;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    err = st.ConnectTo(*ai, deadline);
    if (err == 0) return 0;
    if (err == ETIMEDOUT) break;
  }
  if (err == ETIMEDOUT) return Fail(fmt::format("connecting to {} timed out", st.Where()));
  return Fail(fmt::format("cannot connect to {}: {}", st.Where(), std::strerror(err)));
}

ssize_t StreamRead(git_stream* stream, void* data, size_t len) {
  StreamState& st = StateOf(stream);
  const Clock::time_point deadline = OperationDeadline();
  for (;;) {
    ssize_t n = ::recv(st.fd, data, len, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Fail(fmt::format("reading from {}: {}", st.Where(), std::strerror(errno)));
    }
    Wait w = WaitFor(st.fd, POLLIN, deadline);
    if (w == Wait::kTimedOut) return Fail(fmt::format("reading from {} timed out", st.Where()));
    if (w == Wait::kFailed) {
      return Fail(fmt::format("waiting for {}: {}", st.Where(), std::strerror(errno)));
    }
  }
}

// Writes everything (libgit2 treats a short write as progress, but all-or-error is simpler).
ssize_t StreamWrite(git_stream* stream, const char* data, size_t len, int /*flags*/) {
  StreamState& st = StateOf(stream);
  const Clock::time_point deadline = OperationDeadline();
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::send(st.fd, data + done, len - done, MSG_NOSIGNAL);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Fail(fmt::format("writing to {}: {}", st.Where(), std::strerror(errno)));
    }
    Wait w = WaitFor(st.fd, POLLOUT, deadline);
    if (w == Wait::kTimedOut) return Fail(fmt::format("writing to {} timed out", st.Where()));
    if (w == Wait::kFailed) {
      return Fail(fmt::format("waiting for {}: {}", st.Where(), std::strerror(errno)));
    }
  }
  return static_cast<ssize_t>(len);
}

int StreamClose(git_stream* stream) {
  StateOf(stream).CloseSocket();
  return 0;
}

void StreamFree(git_stream* stream) {
  auto* self = reinterpret_cast<TimedSocketStream*>(stream);
  self->state->CloseSocket();
  delete self->state;
  delete self;
}

int StreamNew(git_stream** out, const char* host, const char* port) {
  // A C callback: nothing may throw through libgit2.
  try {
    auto self = std::make_unique<TimedSocketStream>();
    self->base.version = GIT_STREAM_VERSION;
    self->base.encrypted = 0;
    self->base.proxy_support = 0;
    self->base.connect = StreamConnect;
    self->base.read = StreamRead;
    self->base.write = StreamWrite;
    self->base.close = StreamClose;
    self->base.free = StreamFree;
    self->state = new StreamState{host, port, -1};
    *out = &self.release()->base;
    return 0;
  } catch (const std::bad_alloc&) {
    return Fail("out of memory creating a socket stream");
  }
}

}  // namespace

NetworkDeadline::NetworkDeadline(Clock::time_point deadline) {
  t_deadline = ThreadDeadline{true, deadline, false};
}

NetworkDeadline::~NetworkDeadline() { t_deadline = ThreadDeadline{}; }

bool NetworkDeadline::expired() const { return t_deadline.expired; }

Status RegisterTimedSocketStream() {
  git_stream_registration registration{};
  registration.version = GIT_STREAM_VERSION;
  registration.init = StreamNew;
  registration.wrap = nullptr;
  if (int rc = git_stream_register(GIT_STREAM_STANDARD, &registration); rc != 0) {
    const git_error* last = git_error_last();
    return Status::Internal(fmt::format("git_stream_register: {}",
                                        last != nullptr ? last->message : "failed"));
  }
  return Status::Ok();
}

}  // namespace hubfs::net::git
