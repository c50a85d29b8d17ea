#include "testing/loopback_http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace hubfs::test {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return Lower(x) == Lower(y); });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<std::string> FindHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

bool ParseUint(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

std::string_view Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 410: return "Gone";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads one request head (and discards a Content-Length body) from `fd`, using `buffer` for
// bytes already received. False on EOF, error or a malformed request.
bool ReadRequest(int fd, std::string& buffer, LoopbackRequest* request) {
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > kMaxHeaderBytes) return false;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  const std::string head = buffer.substr(0, head_end);
  buffer.erase(0, head_end + 4);

  size_t line_end = head.find("\r\n");
  const std::string_view request_line = std::string_view(head).substr(0, line_end);
  const size_t sp1 = request_line.find(' ');
  const size_t sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return false;
  request->method = std::string(request_line.substr(0, sp1));
  request->target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
  request->path = request->target.substr(0, request->target.find('?'));
  request->headers.clear();
  while (line_end != std::string::npos) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = std::string_view(head).substr(
        start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    request->headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                                  std::string(Trim(line.substr(colon + 1))));
  }

  uint64_t body_length = 0;
  if (auto length = FindHeader(request->headers, "Content-Length")) {
    if (!ParseUint(*length, &body_length)) return false;
  }
  while (buffer.size() < body_length) {
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  buffer.erase(0, body_length);
  return true;
}

// Applies a single "bytes=" range to a 200 response: 206 + Content-Range, or 416.
void ApplyRange(std::string_view range, LoopbackResponse* response) {
  if (range.substr(0, 6) != "bytes=" || range.find(',') != std::string_view::npos) return;
  range.remove_prefix(6);
  const size_t dash = range.find('-');
  if (dash == std::string_view::npos) return;
  const uint64_t size = response->body.size();
  uint64_t first = 0;
  uint64_t last = 0;
  const std::string_view a = Trim(range.substr(0, dash));
  const std::string_view b = Trim(range.substr(dash + 1));
  if (a.empty()) {  // suffix form: the last b bytes
    uint64_t suffix = 0;
    if (!ParseUint(b, &suffix) || suffix == 0) return;
    first = size - std::min(suffix, size);
    last = size - 1;
    if (size == 0) first = 1;  // nothing to serve: 416 below
  } else {
    if (!ParseUint(a, &first)) return;
    last = size - 1;
    if (!b.empty()) {
      uint64_t requested_last = 0;
      if (!ParseUint(b, &requested_last) || requested_last < first) return;
      last = std::min(last, requested_last);
    }
  }
  if (first >= size) {
    response->status = 416;
    response->headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
    response->body.clear();
    return;
  }
  response->status = 206;
  response->headers.emplace_back("Content-Range", fmt::format("bytes {}-{}/{}", first, last, size));
  response->body = response->body.substr(first, last - first + 1);
}

}  // namespace

std::optional<std::string> LoopbackRequest::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

LoopbackHttpServer::LoopbackHttpServer() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ADD_FAILURE() << "LoopbackHttpServer: socket: " << std::strerror(errno);
    return;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "LoopbackHttpServer: bind/listen: " << std::strerror(errno);
    ::close(fd);
    return;
  }
  listen_fd_ = fd;
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    // Wakes blocked recv/send; each connection thread closes its own fd.
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  }
  stop_cv_.notify_all();
  if (listen_fd_ >= 0) {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    ::close(listen_fd_);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(connections_);
  }
  for (auto& t : threads) t.join();
}

std::string LoopbackHttpServer::BaseUrl() const {
  return fmt::format("http://127.0.0.1:{}", port_);
}

std::string LoopbackHttpServer::Url(std::string_view path) const {
  return BaseUrl() + std::string(path);
}

void LoopbackHttpServer::Serve(std::string path, LoopbackResponse response) {
  ServeSequence(std::move(path), {std::move(response)});
}

void LoopbackHttpServer::ServeSequence(std::string path, std::vector<LoopbackResponse> responses) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_[std::move(path)] = Route{std::move(responses), 0, nullptr};
}

void LoopbackHttpServer::ServeWith(std::string path, Handler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_[std::move(path)] = Route{{}, 0, std::move(handler)};
}

int LoopbackHttpServer::RequestCount(std::string_view path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = log_.find(path);
  return it == log_.end() ? 0 : static_cast<int>(it->second.size());
}

std::vector<LoopbackRequest> LoopbackHttpServer::Requests(std::string_view path) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = log_.find(path);
  return it == log_.end() ? std::vector<LoopbackRequest>() : it->second;
}

int LoopbackHttpServer::TotalRequests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return request_count_;
}

int LoopbackHttpServer::ConnectionCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connection_count_;
}

void LoopbackHttpServer::AcceptLoop() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down (or broken: nothing sensible to do in a test server)
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    // Head and body go out in separate sends; without this, Nagle plus delayed ACKs add ~40 ms
    // to many responses.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    open_fds_.insert(fd);
    const int connection = ++connection_count_;
    connections_.emplace_back([this, fd, connection] { ServeConnection(fd, connection); });
  }
}

void LoopbackHttpServer::ServeConnection(int fd, int connection) {
  std::string buffer;
  while (true) {
    LoopbackRequest request;
    if (!ReadRequest(fd, buffer, &request)) break;
    request.connection = connection;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++request_count_;
      log_[request.path].push_back(request);
    }
    const LoopbackResponse response = Respond(request);
    if (!SendResponse(fd, request, response)) break;
    const auto connection_header = request.Header("Connection");
    if (connection_header && EqualsIgnoreCase(*connection_header, "close")) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    open_fds_.erase(fd);
  }
  ::close(fd);
}

LoopbackResponse LoopbackHttpServer::Respond(const LoopbackRequest& request) {
  Handler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = routes_.find(request.path);
    if (it == routes_.end()) return LoopbackResponse{.status = 404, .body = "no route\n"};
    Route& route = it->second;
    if (!route.handler) {
      if (route.responses.empty()) return LoopbackResponse{.status = 404};
      const size_t index = std::min(route.next, route.responses.size() - 1);
      ++route.next;
      return route.responses[index];
    }
    handler = route.handler;
  }
  return handler(request);
}

bool LoopbackHttpServer::SendResponse(int fd, const LoopbackRequest& request,
                                      const LoopbackResponse& scripted) {
  LoopbackResponse response = scripted;
  if (response.status == 200 && response.serve_ranges) {
    if (auto range = request.Header("Range")) ApplyRange(*range, &response);
  }
  const bool no_body = request.method == "HEAD" || response.status < 200 ||
                       response.status == 204 || response.status == 304;
  const bool keep_alive = response.keep_alive && response.content_length;

  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", response.status, Reason(response.status));
  for (const auto& [name, value] : response.headers) head += fmt::format("{}: {}\r\n", name, value);
  if (response.content_length && !FindHeader(response.headers, "Content-Length") &&
      response.status != 204 && response.status != 304 && response.status >= 200) {
    head += fmt::format("Content-Length: {}\r\n", response.body.size());
  }
  if (!keep_alive) head += "Connection: close\r\n";
  head += "\r\n";

  if (response.delay.count() > 0 && !Sleep(response.delay)) return false;
  if (!SendAll(fd, head)) return false;
  if (no_body) return keep_alive;

  std::string_view body = response.body;
  bool truncate = false;
  if (response.close_after && *response.close_after < body.size()) {
    body = body.substr(0, *response.close_after);
    truncate = true;
  }
  if (response.stall_after && *response.stall_after < body.size()) {
    if (!SendAll(fd, body.substr(0, *response.stall_after))) return false;
    body.remove_prefix(*response.stall_after);
    if (!Sleep(response.stall_for)) return false;
  }
  if (!SendAll(fd, body)) return false;
  return keep_alive && !truncate;
}

bool LoopbackHttpServer::Sleep(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  return !stop_cv_.wait_for(lock, duration, [this] { return stopping_; });
}

}  // namespace hubfs::test
