#include "control_socket.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "hubfs/core/logging.h"

namespace hubfs::app {
namespace {

constexpr size_t kMaxRequestBytes = 64 << 10;

// Builds the sockaddr of an abstract address "@name".
socklen_t AbstractAddress(const std::string& address, sockaddr_un* out) {
  std::memset(out, 0, sizeof *out);
  out->sun_family = AF_UNIX;
  const std::string name = address.substr(1);  // without '@'
  const size_t n = std::min(name.size(), sizeof(out->sun_path) - 1);
  std::memcpy(out->sun_path + 1, name.data(), n);  // sun_path[0] = 0: abstract
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads one line (without '\n'); false on EOF, error, timeout, a line that is too long, or when
// `seconds` have passed in all (SO_RCVTIMEO bounds each read, this the whole line).
bool ReadLine(int fd, std::string* line, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  line->clear();
  char c;
  while (line->size() < kMaxRequestBytes) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line->push_back(c);
  }
  return false;
}

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

void SetTimeout(int fd, int seconds) {
  timeval tv{seconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

Result<std::unique_ptr<ControlServer>> ControlServer::Start(Handler handler) {
  // A random name: a predictable one could be taken first by another local user, and the mount
  // would then fail to start. Clients learn the name from the mount's root xattr.
  unsigned char random[12];
  if (::getrandom(random, sizeof random, 0) != static_cast<ssize_t>(sizeof random)) {
    return Status::FromErrno(errno, "getrandom");
  }
  std::string address = "@hubfs-" + std::to_string(::getpid()) + "-";
  for (unsigned char c : random) address += fmt::format("{:02x}", c);
  Fd listen_fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (listen_fd.fd < 0) return Status::FromErrno(errno, "control socket");
  sockaddr_un addr;
  socklen_t len = AbstractAddress(address, &addr);
  if (::bind(listen_fd.fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return Status::FromErrno(errno, "bind control socket " + address);
  }
  if (::listen(listen_fd.fd, 8) != 0) return Status::FromErrno(errno, "listen on " + address);
  Fd wake{::eventfd(0, EFD_CLOEXEC)};
  if (wake.fd < 0) return Status::FromErrno(errno, "eventfd");
  auto server = std::unique_ptr<ControlServer>(
      new ControlServer(listen_fd.fd, wake.fd, address, std::move(handler)));
  listen_fd.fd = wake.fd = -1;  // owned by the server now
  return server;
}

ControlServer::ControlServer(int listen_fd, int wake_fd, std::string address, Handler handler)
    : listen_fd_(listen_fd), wake_fd_(wake_fd), address_(std::move(address)),
      handler_(std::move(handler)), thread_([this] { Loop(); }) {}

ControlServer::~ControlServer() {
  uint64_t one = 1;
  ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
  (void)ignored;
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fd_);
}

void ControlServer::Loop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      HUBFS_LOG_ERROR("control socket: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & POLLIN)) continue;
    Fd client{::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC)};
    if (client.fd < 0) continue;
    Answer(client.fd);
  }
}

void ControlServer::Answer(int fd) {
  SetTimeout(fd, 5);  // a client that sends nothing must not hold the daemon's only control thread
  ucred peer{};
  socklen_t len = sizeof peer;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 ||
      (peer.uid != 0 && peer.uid != ::geteuid())) {
    WriteAll(fd, nlohmann::json{{"ok", false}, {"error", "permission denied: only root and the user "
                                                          "running the mount may control it"}}.dump() + "\n");
    return;
  }
  std::string line;
  if (!ReadLine(fd, &line, 5)) return;
  nlohmann::json reply;
  auto request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) {
    reply = {{"ok", false}, {"error", "the request is not a JSON object"}};
  } else {
    try {
      reply = handler_(request);
    } catch (const std::exception& e) {
      reply = {{"ok", false}, {"error", std::string("internal error: ") + e.what()}};
    }
  }
  WriteAll(fd, reply.dump() + "\n");
}

Result<nlohmann::json> CallControl(const std::string& address, const nlohmann::json& request,
                                   int timeout_seconds) {
  if (address.size() < 2 || address[0] != '@') return Status::InvalidArgument("bad control address '" + address + "'");
  Fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (fd.fd < 0) return Status::FromErrno(errno, "socket");
  SetTimeout(fd.fd, timeout_seconds);  // before connect: a full backlog would block it forever
  sockaddr_un addr;
  socklen_t len = AbstractAddress(address, &addr);
  if (::connect(fd.fd, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return Status::Unavailable("the daemon does not answer at " + address + ": " + std::strerror(errno));
  }
  if (!WriteAll(fd.fd, request.dump() + "\n")) return Status::FromErrno(errno, "sending to the daemon");
  std::string line;
  if (!ReadLine(fd.fd, &line, timeout_seconds)) {
    return Status::DeadlineExceeded("no answer from the daemon within " + std::to_string(timeout_seconds) + " s");
  }
  auto reply = nlohmann::json::parse(line, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) return Status::DataLoss("the daemon answered garbage");
  return reply;
}

}  // namespace hubfs::app
