// The control socket of a running mount: how `hubfs refresh` (and later `hubfs status`) talk to
// the daemon that serves a mount point.
//
// Address: a Linux abstract unix socket ("@hubfs-<pid>-<n>": no file to clean up after a crash),
// published as the extended attribute user.hubfs.control of the mount's root folder, so a
// client finds the daemon from the mount point alone.
// Protocol: one request per connection, one JSON object per line each way:
//   {"op": "refresh", "hubs": ["onnx"]}   ->   {"ok": true, "message": "..."}
//                                              {"ok": false, "error": "..."}
// Only root and the daemon's own user may talk to it (SO_PEERCRED).
//
// Thread-safety: the server owns one thread that accepts and answers requests one at a time;
// the destructor stops and joins it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "hubfs/core/result.h"

namespace hubfs::app {

class ControlServer {
 public:
  // Answers a request (a JSON object) with a reply object; runs on the server's thread.
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  static Result<std::unique_ptr<ControlServer>> Start(Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // "@hubfs-..." (the leading '@' stands for the abstract namespace's NUL byte).
  const std::string& address() const { return address_; }

 private:
  ControlServer(int listen_fd, int wake_fd, std::string address, Handler handler);
  void Loop();
  void Answer(int fd);

  int listen_fd_;
  int wake_fd_;  // an eventfd: written by the destructor to stop Loop
  std::string address_;
  Handler handler_;
  std::thread thread_;  // last: starts after everything above exists
};

// Sends `request` to the server at `address` and returns its reply; errors when the daemon cannot
// be reached or answers garbage. Waits at most `timeout_seconds` for the reply.
Result<nlohmann::json> CallControl(const std::string& address, const nlohmann::json& request,
                                   int timeout_seconds);

}  // namespace hubfs::app
