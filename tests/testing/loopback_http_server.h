// LoopbackHttpServer: a small scripted HTTP/1.1 server on 127.0.0.1 for hermetic tests of
// anything that talks HTTP (the curl client, fetchers, hub adapters), including fault injection.
//
//   LoopbackHttpServer server;
//   server.Serve("/file", {.body = "hello"});
//   server.ServeSequence("/flaky", {{.status = 503}, {.body = "ok"}});
//   client.Fetch({.url = server.Url("/file")});
//   EXPECT_EQ(server.RequestCount("/file"), 1);
//
// Behaviour:
//  - Listens on an ephemeral port; one thread accepts, one thread per connection serves requests
//    in order (keep-alive unless the response or request says otherwise). The destructor
//    interrupts delays and stalls, closes every connection and joins all threads.
//  - Routes match the request path (the target without "?query"). Unknown paths get 404.
//  - For a 200 response with serve_ranges, a single "Range: bytes=a-b" (also "a-" and "-n") is
//    answered with 206 and Content-Range, or 416 when unsatisfiable; other Range forms are
//    ignored (full 200).
//  - HEAD gets the headers (with the body's Content-Length) and no body. 1xx/204/304 get no body.
//  - Requests are recorded (with headers, and the connection they arrived on) before the
//    response is sent.
//
// Thread-safety: all methods may be called from any thread while the server runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace hubfs::test {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct LoopbackRequest {
  std::string method;
  std::string target;  // as sent: path and query
  std::string path;    // target without the query
  HeaderList headers;
  int connection = 0;  // 1-based index of the connection it arrived on

  // Case-insensitive; the first match.
  std::optional<std::string> Header(std::string_view name) const;
};

// What the server sends for one request.
struct LoopbackResponse {
  int status = 200;
  HeaderList headers{};  // sent as given, after the status line
  std::string body{};
  // Honour "Range: bytes=..." for a 200 response (206/416).
  bool serve_ranges = true;
  // Wait before sending anything (interrupted by shutdown).
  std::chrono::milliseconds delay{0};
  // Send this many body bytes, then send nothing for stall_for, then the rest.
  std::optional<size_t> stall_after{};
  std::chrono::milliseconds stall_for{std::chrono::hours(1)};
  // Announce the full body but close the connection after this many body bytes (truncation).
  std::optional<size_t> close_after{};
  // False: no Content-Length; the body ends when the connection closes.
  bool content_length = true;
  // False: send "Connection: close" and close after this response.
  bool keep_alive = true;
};

class LoopbackHttpServer {
 public:
  using Handler = std::function<LoopbackResponse(const LoopbackRequest&)>;

  // Starts listening; check ok() (a failure is also reported to GoogleTest).
  LoopbackHttpServer();
  ~LoopbackHttpServer();
  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  bool ok() const { return listen_fd_ >= 0; }
  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>"
  std::string BaseUrl() const;
  // BaseUrl() + path; `path` starts with '/'.
  std::string Url(std::string_view path) const;

  // Every request to `path` gets `response`.
  void Serve(std::string path, LoopbackResponse response);
  // Requests to `path` get the responses in order; the last one repeats.
  void ServeSequence(std::string path, std::vector<LoopbackResponse> responses);
  // Requests to `path` are answered by `handler` (called on a connection thread, without locks).
  void ServeWith(std::string path, Handler handler);

  int RequestCount(std::string_view path) const;
  std::vector<LoopbackRequest> Requests(std::string_view path) const;
  int TotalRequests() const;
  // Connections accepted so far.
  int ConnectionCount() const;

 private:
  struct Route {
    std::vector<LoopbackResponse> responses;
    size_t next = 0;
    Handler handler;
  };

  void AcceptLoop();
  void ServeConnection(int fd, int connection);
  LoopbackResponse Respond(const LoopbackRequest& request);
  // Sends one response; false when the connection must be closed afterwards.
  bool SendResponse(int fd, const LoopbackRequest& request, const LoopbackResponse& response);
  // Sleeps for `duration` unless the server stops first; false if it is stopping.
  bool Sleep(std::chrono::milliseconds duration);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  // Everything below is guarded by mu_.
  bool stopping_ = false;
  std::set<int> open_fds_;
  std::vector<std::thread> connections_;
  std::map<std::string, Route, std::less<>> routes_;
  std::map<std::string, std::vector<LoopbackRequest>, std::less<>> log_;
  int connection_count_ = 0;
  int request_count_ = 0;
};

}  // namespace hubfs::test
