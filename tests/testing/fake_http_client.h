// FakeHttpClient: an in-memory net::HttpClient for unit tests of anything above net/ (fetchers,
// document caches, hub adapters). No sockets, no threads of its own.
//
//   hubfs::test::FakeHttpClient http;
//   http.Serve("http://hub/a.onnx", {.body = "hello"});
//   http.ServeSequence("http://hub/index.json", {{.status = 503}, {.body = "{}"}});
//   http.FailNth("http://hub/a.onnx", 2, Status::Unavailable("reset"));
//   ... code under test ...
//   EXPECT_EQ(http.RequestCount("http://hub/a.onnx"), 1);
//
// Behaviour (follows the contract of hubfs/net/http_client.h, without retries: every call is one
// attempt, as if the real client had already given up):
//  - Responses are scripted by exact URL. An unscripted URL gets 404.
//  - Non-2xx statuses become errors through net::StatusFromHttp (so they carry http_status),
//    except 304 to a conditional request (If-None-Match / If-Modified-Since), which is a
//    response; 304 to an unconditional request is kUnavailable, like the curl client.
//  - A 200 response with serve_ranges answers HttpRequest::range with 206, Content-Range and the
//    slice (the last byte clipped to the body), or 416 when the range starts past the end.
//  - Content-Length is added to the response headers unless the script sets it. HEAD gets the
//    headers and no body.
//  - Fetch() enforces max_body_bytes (kResourceExhausted). Stream() calls sink.Begin() once for a
//    2xx response (also for an empty body), then sink.Write() in chunks of chunk_size bytes; the
//    first sink error aborts the transfer and is returned as-is.
//  - Every call is recorded (method, url, headers, range) before it is answered.
//
// Fault injection, per response: truncate_after (deliver only that many body bytes, then end with
// truncate_error, or cleanly when it is OK) and chunk_size. Per URL: FailNth (the Nth call fails
// with a given Status before any byte) and Block/Unblock (calls wait until released; for
// single-flight and concurrency tests).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/net/http_client.h"

namespace hubfs::test {

// What the fake answers to one call.
struct FakeResponse {
  int status = 200;
  net::Headers headers{};
  std::string body{};
  // Honour HttpRequest::range for a 200 response (206 / 416).
  bool serve_ranges = true;
  // Deliver the body to a sink in pieces of this many bytes; 0: one piece.
  size_t chunk_size = 0;
  // Deliver only this many body bytes, then stop with truncate_error (OK: end cleanly, as a
  // server without Content-Length closing early would look).
  std::optional<size_t> truncate_after{};
  Status truncate_error{};
};

struct RecordedRequest {
  std::string method;
  std::string url;
  net::Headers headers;
  std::optional<net::ByteRange> range;

  // Case-insensitive; the first match.
  std::optional<std::string> Header(std::string_view name) const;
};

class FakeHttpClient final : public net::HttpClient {
 public:
  FakeHttpClient() = default;
  ~FakeHttpClient() override;
  FakeHttpClient(const FakeHttpClient&) = delete;
  FakeHttpClient& operator=(const FakeHttpClient&) = delete;

  // Every call for `url` gets `response` (replaces earlier scripts for `url`).
  void Serve(const std::string& url, FakeResponse response);
  // Calls for `url` get the responses in order; the last one repeats.
  void ServeSequence(const std::string& url, std::vector<FakeResponse> responses);
  // The `n`th call (1-based, counting every call to `url`) fails with `error` before any byte.
  void FailNth(const std::string& url, int n, Status error);

  // Calls for `url` wait (after being recorded) until Unblock(url); the destructor also releases.
  void Block(const std::string& url);
  void Unblock(const std::string& url);
  // Waits until at least `count` calls for `url` have been recorded; false on timeout.
  bool WaitForRequests(const std::string& url, int count,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  int RequestCount(const std::string& url) const;
  int TotalRequests() const;
  // Every call for `url`, in arrival order.
  std::vector<RecordedRequest> Requests(const std::string& url) const;
  // Every call, in arrival order.
  std::vector<RecordedRequest> AllRequests() const;

  Result<net::HttpResponse> Fetch(const net::HttpRequest& request) override;
  Result<net::HttpResponse> Stream(const net::HttpRequest& request, net::ByteSink& sink) override;

 private:
  struct Script {
    std::vector<FakeResponse> responses;
    size_t next = 0;
  };
  // The response for one call, after recording it, waiting while blocked and applying FailNth.
  Result<FakeResponse> Take(const net::HttpRequest& request);
  Result<net::HttpResponse> Run(const net::HttpRequest& request, net::ByteSink* sink);

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, Script> scripts_;               // guarded by mu_
  std::map<std::pair<std::string, int>, Status> fail_;  // (url, nth call) -> error; guarded by mu_
  std::set<std::string> blocked_;                       // guarded by mu_
  std::vector<RecordedRequest> log_;                    // guarded by mu_
  std::map<std::string, int> counts_;                   // guarded by mu_
  bool shutting_down_ = false;                          // guarded by mu_
  int waiting_ = 0;                                     // calls inside Block; guarded by mu_
};

}  // namespace hubfs::test
