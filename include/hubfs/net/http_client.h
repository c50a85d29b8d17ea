// HttpClient: the only way hubfs talks HTTP. Hub adapters describe requests; everything about
// transport (connection reuse, redirects, retries with backoff, Retry-After, timeouts, proxies,
// credentials that never leave their host) lives behind this interface in net/.
//
// Error contract (decided once, in StatusFromHttp / the curl client):
//   2xx, and 304 when the request is conditional  -> a HttpResponse
//   404/410 -> kNotFound, 401 -> kUnauthenticated, 403 -> kPermissionDenied, 429 -> kRateLimited,
//   other 4xx -> kInvalidArgument, 5xx / connect / DNS / reset -> kUnavailable,
//   timeouts and stalls -> kDeadlineExceeded, a sink error -> that error.
// Errors carry the HTTP status (Status::http_status) and a message naming method and URL.
//
// Thread-safety: implementations are safe to call from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct ByteRange {
  uint64_t first = 0;  // inclusive
  uint64_t last = 0;   // inclusive
};

struct HttpRequest {
  std::string method = "GET";  // GET or HEAD
  std::string url;
  Headers headers;             // extra request headers, e.g. If-None-Match
  std::optional<ByteRange> range;
  // Upper bound for a body fetched into memory (Fetch); larger bodies fail with kResourceExhausted.
  uint64_t max_body_bytes = 64ull << 20;
  // Retries of transient failures (5xx, 429, connect errors, timeouts) before giving up.
  // Stream() retries only while nothing has been delivered to the sink.
  int max_attempts = 3;
};

struct HttpResponse {
  int status = 0;
  Headers headers;          // of the final response after redirects; names as sent by the server
  std::string body;         // empty for Stream() and HEAD
  std::string effective_url;

  // Case-insensitive header lookup; the first match.
  std::optional<std::string> Header(std::string_view name) const;
};

// Receives a response body as it arrives. Returning an error aborts the transfer, and
// Stream() returns that error.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Called once per request attempt before any body byte, with the status and headers of the
  // response that will be delivered (2xx only). An error aborts the transfer.
  virtual Status Begin(const HttpResponse& head) { (void)head; return Status(); }
  virtual Status Write(std::string_view data) = 0;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Performs the request and returns the whole body in memory (bounded by max_body_bytes).
  virtual Result<HttpResponse> Fetch(const HttpRequest& request) = 0;

  // Performs the request and delivers the body to `sink` as it arrives; the returned response
  // has an empty body.
  virtual Result<HttpResponse> Stream(const HttpRequest& request, ByteSink& sink) = 0;
};

// The one mapping from an HTTP status to a Status (OK for 2xx and 304).
Status StatusFromHttp(int http_status, std::string_view method, std::string_view url);

// Joins a base URL and a relative path with exactly one '/' between them.
std::string JoinUrl(std::string_view base, std::string_view path);

}  // namespace hubfs::net
