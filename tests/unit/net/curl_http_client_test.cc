#include "hubfs/net/curl_http_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "testing/loopback_http_server.h"

namespace hubfs::net {
namespace {

using std::chrono::milliseconds;
using test::LoopbackHttpServer;
using test::LoopbackResponse;

// libcurl is initialised once for this binary, before any test thread exists. Proxies from the
// environment are switched off: these tests only ever talk to 127.0.0.1.
class CurlEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    ::setenv("no_proxy", "*", /*overwrite=*/1);
    global_ = std::make_unique<CurlGlobal>();
    ASSERT_TRUE(global_->ok());
  }
  void TearDown() override { global_.reset(); }

 private:
  std::unique_ptr<CurlGlobal> global_;
};
[[maybe_unused]] ::testing::Environment* const kCurlEnvironment =
    ::testing::AddGlobalTestEnvironment(new CurlEnvironment);

// A deterministic body of `size` bytes that is not periodic over short spans.
std::string Pattern(size_t size) {
  std::string s(size, '\0');
  uint32_t x = 12345;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

CurlHttpClient::Options FastOptions() {
  CurlHttpClient::Options o;
  o.connect_timeout = milliseconds(2000);
  o.backoff_base = milliseconds(1);
  o.backoff_cap = milliseconds(5);
  o.retry_after_cap = milliseconds(2000);
  return o;
}

HttpRequest Get(std::string url, int max_attempts = 3) {
  HttpRequest r;
  r.url = std::move(url);
  r.max_attempts = max_attempts;
  return r;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class RecordingSink : public ByteSink {
 public:
  Status Begin(const HttpResponse& head) override {
    ++begin_calls;
    begin_status = head.status;
    begin_headers = head.headers;
    return begin_error;
  }
  Status Write(std::string_view chunk) override {
    ++write_calls;
    data.append(chunk);
    return write_error;
  }

  int begin_calls = 0;
  int begin_status = 0;
  Headers begin_headers;
  int write_calls = 0;
  std::string data;
  Status begin_error;
  Status write_error;
};

class CurlHttpClientTest : public ::testing::Test {
 protected:
  LoopbackHttpServer server_;
  CurlHttpClient client_{FastOptions()};
};

TEST_F(CurlHttpClientTest, Fetch200) {
  server_.Serve("/a", {.headers = {{"ETag", "\"v1\""}}, .body = "hello"});
  auto r = client_.Fetch(Get(server_.Url("/a")));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->Header("etag"), "\"v1\"");
  EXPECT_EQ(r->Header("Content-Length"), "5");
  EXPECT_EQ(r->effective_url, server_.Url("/a"));
}

TEST_F(CurlHttpClientTest, SendsCallerHeadersUserAgentAndIdentityEncoding) {
  server_.Serve("/a", {.body = "x"});
  HttpRequest req = Get(server_.Url("/a"));
  req.headers = {{"X-Test", "yes"}};
  ASSERT_TRUE(client_.Fetch(req).ok());
  const auto seen = server_.Requests("/a");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].Header("X-Test"), "yes");
  EXPECT_EQ(seen[0].Header("Accept-Encoding"), "identity");
  EXPECT_EQ(seen[0].Header("User-Agent").value_or("").substr(0, 5), "hubfs");
  EXPECT_EQ(seen[0].Header("Range"), std::nullopt);
}

TEST_F(CurlHttpClientTest, HeadReturnsHeadersWithoutBody) {
  server_.Serve("/a", {.body = "hello"});
  HttpRequest req = Get(server_.Url("/a"));
  req.method = "HEAD";
  auto r = client_.Fetch(req);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  EXPECT_EQ(r->Header("Content-Length"), "5");
  EXPECT_EQ(server_.Requests("/a").at(0).method, "HEAD");
}

TEST_F(CurlHttpClientTest, HttpErrorsMapToCodesAndAre4xxNotRetried) {
  struct Case {
    int http;
    Code code;
  };
  for (const Case& c :
       {Case{404, Code::kNotFound}, Case{410, Code::kNotFound}, Case{401, Code::kUnauthenticated},
        Case{403, Code::kPermissionDenied}, Case{400, Code::kInvalidArgument}}) {
    const std::string path = "/e" + std::to_string(c.http);
    server_.Serve(path, {.status = c.http, .body = "nope"});
    auto r = client_.Fetch(Get(server_.Url(path), /*max_attempts=*/3));
    ASSERT_FALSE(r.ok()) << c.http;
    EXPECT_EQ(r.error().code(), c.code) << c.http;
    EXPECT_EQ(r.error().http_status(), c.http);
    EXPECT_EQ(r.error().message(), "GET " + server_.Url(path) + ": HTTP " + std::to_string(c.http));
    EXPECT_EQ(server_.RequestCount(path), 1) << "4xx must not be retried";
  }
}

TEST_F(CurlHttpClientTest, RateLimitedAndServerErrorsAreRetriedThenReported) {
  server_.Serve("/429", {.status = 429});
  server_.Serve("/500", {.status = 500});
  auto r429 = client_.Fetch(Get(server_.Url("/429"), 3));
  ASSERT_FALSE(r429.ok());
  EXPECT_EQ(r429.error().code(), Code::kRateLimited);
  EXPECT_EQ(r429.error().http_status(), 429);
  EXPECT_EQ(server_.RequestCount("/429"), 3);
  auto r500 = client_.Fetch(Get(server_.Url("/500"), 2));
  ASSERT_FALSE(r500.ok());
  EXPECT_EQ(r500.error().code(), Code::kUnavailable);
  EXPECT_EQ(r500.error().http_status(), 500);
  EXPECT_NE(r500.error().message().find("HTTP 500"), std::string::npos);
  EXPECT_EQ(server_.RequestCount("/500"), 2);
}

TEST_F(CurlHttpClientTest, Retries503ThenSucceeds) {
  server_.ServeSequence("/a", {{.status = 503}, {.status = 503}, {.body = "finally"}});
  auto r = client_.Fetch(Get(server_.Url("/a"), 3));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "finally");
  EXPECT_EQ(server_.RequestCount("/a"), 3);
}

TEST_F(CurlHttpClientTest, RetryAfterSecondsIsHonoured) {
  server_.ServeSequence("/a", {{.status = 503, .headers = {{"Retry-After", "1"}}}, {.body = "ok"}});
  const auto start = std::chrono::steady_clock::now();
  auto r = client_.Fetch(Get(server_.Url("/a")));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_GE(SecondsSince(start), 0.95);
  EXPECT_EQ(server_.RequestCount("/a"), 2);
}

TEST_F(CurlHttpClientTest, RetryAfterIsCapped) {
  CurlHttpClient::Options o = FastOptions();
  o.retry_after_cap = milliseconds(100);
  CurlHttpClient client(o);
  server_.ServeSequence("/a",
                        {{.status = 429, .headers = {{"Retry-After", "120"}}}, {.body = "ok"}});
  const auto start = std::chrono::steady_clock::now();
  auto r = client.Fetch(Get(server_.Url("/a")));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  const double elapsed = SecondsSince(start);
  EXPECT_GE(elapsed, 0.09);
  EXPECT_LT(elapsed, 2.0);
}

TEST_F(CurlHttpClientTest, RetryAfterHttpDateIsHonoured) {
  CurlHttpClient::Options o = FastOptions();
  o.retry_after_cap = milliseconds(300);  // the date is >= 1 s away; the cap makes it exact
  CurlHttpClient client(o);
  const time_t later = std::time(nullptr) + 3;
  tm parts{};
  gmtime_r(&later, &parts);
  char date[64];
  strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  server_.ServeSequence("/a",
                        {{.status = 503, .headers = {{"Retry-After", date}}}, {.body = "ok"}});
  const auto start = std::chrono::steady_clock::now();
  auto r = client.Fetch(Get(server_.Url("/a")));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_GE(SecondsSince(start), 0.28);
}

TEST_F(CurlHttpClientTest, FollowsRedirectKeepingAuthOnSameOrigin) {
  server_.Serve("/old", {.status = 302, .headers = {{"Location", "/new"}}});
  server_.Serve("/new", {.body = "moved"});
  HttpRequest req = Get(server_.Url("/old"));
  req.headers = {{"Authorization", "Bearer secret"}};
  auto r = client_.Fetch(req);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "moved");
  EXPECT_EQ(r->effective_url, server_.Url("/new"));
  EXPECT_EQ(server_.Requests("/new").at(0).Header("Authorization"), "Bearer secret");
}

TEST_F(CurlHttpClientTest, AuthorizationIsNotSentToAnotherPort) {
  LoopbackHttpServer cdn;
  server_.Serve("/file", {.status = 302, .headers = {{"Location", cdn.Url("/blob")}}});
  cdn.Serve("/blob", {.body = "bytes"});
  HttpRequest req = Get(server_.Url("/file"));
  req.headers = {{"Authorization", "Bearer secret"}};
  auto r = client_.Fetch(req);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "bytes");
  EXPECT_EQ(server_.Requests("/file").at(0).Header("Authorization"), "Bearer secret");
  ASSERT_EQ(cdn.RequestCount("/blob"), 1);
  EXPECT_EQ(cdn.Requests("/blob")[0].Header("Authorization"), std::nullopt);
}

TEST_F(CurlHttpClientTest, TooManyRedirectsFailsWithoutRetry) {
  CurlHttpClient::Options o = FastOptions();
  o.max_redirects = 3;
  CurlHttpClient client(o);
  server_.Serve("/loop", {.status = 302, .headers = {{"Location", "/loop"}}});
  auto r = client.Fetch(Get(server_.Url("/loop")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_EQ(server_.RequestCount("/loop"), 4);  // the request and 3 redirects, once
}

TEST_F(CurlHttpClientTest, RangeGets206WithTheRightBytes) {
  const std::string body = Pattern(1000);
  server_.Serve("/a", {.body = body});
  HttpRequest req = Get(server_.Url("/a"));
  req.range = ByteRange{100, 199};
  auto r = client_.Fetch(req);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, body.substr(100, 100));
  EXPECT_EQ(r->Header("Content-Range"), "bytes 100-199/1000");
  EXPECT_EQ(server_.Requests("/a").at(0).Header("Range"), "bytes=100-199");
}

TEST_F(CurlHttpClientTest, RangeIgnoredByServerIsReturnedAs200) {
  server_.Serve("/a", {.body = "whole body", .serve_ranges = false});
  HttpRequest req = Get(server_.Url("/a"));
  req.range = ByteRange{0, 3};
  auto r = client_.Fetch(req);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "whole body");
}

TEST_F(CurlHttpClientTest, NotModifiedOnlyForConditionalRequests) {
  server_.Serve("/a", {.status = 304, .headers = {{"ETag", "\"v1\""}}});
  HttpRequest conditional = Get(server_.Url("/a"));
  conditional.headers = {{"If-None-Match", "\"v1\""}};
  auto r = client_.Fetch(conditional);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 304);
  EXPECT_EQ(r->Header("ETag"), "\"v1\"");

  auto unconditional = client_.Fetch(Get(server_.Url("/a")));
  ASSERT_FALSE(unconditional.ok());
  EXPECT_EQ(unconditional.error().http_status(), 304);
}

TEST_F(CurlHttpClientTest, StreamDeliversChunksAfterOneBegin) {
  const std::string body = Pattern(1 << 20);
  server_.Serve("/big", {.headers = {{"X-Kind", "blob"}}, .body = body});
  RecordingSink sink;
  auto r = client_.Stream(Get(server_.Url("/big")), sink);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(sink.begin_calls, 1);
  EXPECT_EQ(sink.begin_status, 200);
  HttpResponse head;
  head.headers = sink.begin_headers;
  EXPECT_EQ(head.Header("x-kind"), "blob");
  EXPECT_GT(sink.write_calls, 1);
  EXPECT_TRUE(sink.data == body);
}

TEST_F(CurlHttpClientTest, StreamOfEmptyBodyStillBegins) {
  server_.Serve("/empty", {.body = ""});
  RecordingSink sink;
  auto r = client_.Stream(Get(server_.Url("/empty")), sink);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(sink.begin_calls, 1);
  EXPECT_EQ(sink.write_calls, 0);
}

TEST_F(CurlHttpClientTest, StreamDoesNotBeginForErrors) {
  server_.Serve("/missing", {.status = 404, .body = "not here"});
  RecordingSink sink;
  auto r = client_.Stream(Get(server_.Url("/missing")), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_EQ(sink.begin_calls, 0);
  EXPECT_EQ(sink.data, "");
}

TEST_F(CurlHttpClientTest, SinkWriteErrorAbortsAndIsReturnedAsIs) {
  server_.Serve("/big", {.body = Pattern(4 << 20)});
  RecordingSink sink;
  sink.write_error = Status::IoError("disk full");
  auto r = client_.Stream(Get(server_.Url("/big"), 3), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kIoError);
  EXPECT_EQ(r.error().message(), "disk full");
  EXPECT_EQ(sink.write_calls, 1);
  EXPECT_EQ(server_.RequestCount("/big"), 1);
}

TEST_F(CurlHttpClientTest, SinkBeginErrorAborts) {
  server_.Serve("/a", {.body = "data"});
  RecordingSink sink;
  sink.begin_error = Status::FailedPrecondition("etag changed");
  auto r = client_.Stream(Get(server_.Url("/a")), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(sink.write_calls, 0);
}

TEST_F(CurlHttpClientTest, MaxBodyBytesBoundsFetch) {
  server_.Serve("/a", {.body = Pattern(1000)});
  HttpRequest req = Get(server_.Url("/a"));
  req.max_body_bytes = 1000;
  EXPECT_TRUE(client_.Fetch(req).ok());
  req.max_body_bytes = 999;
  auto r = client_.Fetch(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(server_.RequestCount("/a"), 2) << "not retried";
}

TEST_F(CurlHttpClientTest, MaxBodyBytesBoundsBodiesWithoutLength) {
  server_.Serve("/a", {.body = Pattern(100000), .content_length = false});
  HttpRequest req = Get(server_.Url("/a"));
  req.max_body_bytes = 5000;
  auto r = client_.Fetch(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kResourceExhausted);
}

TEST_F(CurlHttpClientTest, ConnectionRefusedIsUnavailableQuickly) {
  // A bound socket that never listens: connecting to it is refused, and the port stays ours.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/x";

  const auto start = std::chrono::steady_clock::now();
  auto r = client_.Fetch(Get(url, 3));
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("GET " + url + ": connection refused"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("after 3 attempts"), std::string::npos);
  EXPECT_LT(SecondsSince(start), 1.0);
}

TEST_F(CurlHttpClientTest, StallIsDeadlineExceeded) {
  CurlHttpClient::Options o = FastOptions();
  o.stall_timeout = std::chrono::seconds(1);
  CurlHttpClient client(o);
  server_.Serve("/slow", {.body = Pattern(1000), .stall_after = 0});
  const auto start = std::chrono::steady_clock::now();
  auto r = client.Fetch(Get(server_.Url("/slow"), 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded) << r.error().ToString();
  EXPECT_LT(SecondsSince(start), 4.0);
}

TEST_F(CurlHttpClientTest, SilentServerIsDeadlineExceeded) {
  CurlHttpClient::Options o = FastOptions();
  o.stall_timeout = std::chrono::seconds(1);
  CurlHttpClient client(o);
  server_.Serve("/mute", {.body = "late", .delay = std::chrono::seconds(10)});
  const auto start = std::chrono::steady_clock::now();
  auto r = client.Fetch(Get(server_.Url("/mute"), 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded) << r.error().ToString();
  EXPECT_LT(SecondsSince(start), 4.0);
}

TEST_F(CurlHttpClientTest, TruncatedBodyIsDataLoss) {
  server_.Serve("/cut", {.body = Pattern(1000), .close_after = 10});
  auto r = client_.Fetch(Get(server_.Url("/cut"), 1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDataLoss) << r.error().ToString();
}

TEST_F(CurlHttpClientTest, TruncatedFetchIsRetried) {
  const std::string body = Pattern(1000);
  server_.ServeSequence("/cut", {{.body = body, .close_after = 10}, {.body = body}});
  auto r = client_.Fetch(Get(server_.Url("/cut"), 2));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->body == body);
  EXPECT_EQ(server_.RequestCount("/cut"), 2);
}

TEST_F(CurlHttpClientTest, StreamIsNotRetriedAfterDelivering) {
  const std::string body = Pattern(1000);
  server_.ServeSequence("/cut", {{.body = body, .close_after = 10}, {.body = body}});
  RecordingSink sink;
  auto r = client_.Stream(Get(server_.Url("/cut"), 3), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDataLoss);
  EXPECT_EQ(sink.data, body.substr(0, 10));
  EXPECT_EQ(server_.RequestCount("/cut"), 1);
}

TEST_F(CurlHttpClientTest, StreamIsRetriedWhileNothingWasDelivered) {
  const std::string body = Pattern(1000);
  server_.ServeSequence("/flaky",
                        {{.status = 503}, {.body = body, .close_after = 0}, {.body = body}});
  RecordingSink sink;
  auto r = client_.Stream(Get(server_.Url("/flaky"), 3), sink);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(sink.begin_calls, 1);
  EXPECT_TRUE(sink.data == body);
  EXPECT_EQ(server_.RequestCount("/flaky"), 3);
}

TEST_F(CurlHttpClientTest, KeepAliveReusesTheConnection) {
  server_.Serve("/a", {.body = "x"});
  server_.Serve("/missing", {.status = 404, .body = "error bodies are drained"});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client_.Fetch(Get(server_.Url("/a"))).ok());
  EXPECT_FALSE(client_.Fetch(Get(server_.Url("/missing"))).ok());
  ASSERT_TRUE(client_.Fetch(Get(server_.Url("/a"))).ok());
  EXPECT_EQ(server_.TotalRequests(), 7);
  EXPECT_EQ(server_.ConnectionCount(), 1);
}

TEST_F(CurlHttpClientTest, ConcurrentFetchesFromEightThreads) {
  const std::string body = Pattern(64 * 1024);
  server_.Serve("/a", {.body = body});
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10;
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = client_.Fetch(Get(server_.Url("/a")));
        if (r.ok() && r->body == body) ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kThreads * kPerThread);
  EXPECT_EQ(server_.RequestCount("/a"), kThreads * kPerThread);
  EXPECT_LE(server_.ConnectionCount(), kThreads);
}

TEST_F(CurlHttpClientTest, RejectsInvalidRequests) {
  HttpRequest post = Get(server_.Url("/a"));
  post.method = "POST";
  EXPECT_EQ(client_.Fetch(post).error().code(), Code::kInvalidArgument);
  HttpRequest injected = Get(server_.Url("/a"));
  injected.headers = {{"X-A", "1\r\nX-B: 2"}};
  EXPECT_EQ(client_.Fetch(injected).error().code(), Code::kInvalidArgument);
  HttpRequest backwards = Get(server_.Url("/a"));
  backwards.range = ByteRange{5, 4};
  EXPECT_EQ(client_.Fetch(backwards).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(server_.TotalRequests(), 0);
}

TEST_F(CurlHttpClientTest, CredentialsInUrlAreNotInMessages) {
  server_.Serve("/secret", {.status = 404});
  const std::string url = "http://user:pw@127.0.0.1:" + std::to_string(server_.port()) + "/secret";
  auto r = client_.Fetch(Get(url));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().find("pw"), std::string::npos) << r.error().message();
}

}  // namespace
}  // namespace hubfs::net
