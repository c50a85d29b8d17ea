// Tests of the test double itself: other tests rely on it honouring the HttpClient contract.
#include "testing/fake_http_client.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace hubfs::test {
namespace {

constexpr char kUrl[] = "http://hub/file";

net::HttpRequest Get(std::string url = kUrl) {
  net::HttpRequest request;
  request.url = std::move(url);
  return request;
}

// Records what Stream() delivers; can fail on a chosen call.
class RecordingSink final : public net::ByteSink {
 public:
  Status Begin(const net::HttpResponse& head) override {
    ++begins;
    status = head.status;
    return Status();
  }
  Status Write(std::string_view data) override {
    chunks.emplace_back(data);
    body.append(data);
    if (fail_on_write != 0 && static_cast<int>(chunks.size()) == fail_on_write) {
      return Status::IoError("disk full");
    }
    return Status();
  }

  int begins = 0;
  int status = 0;
  int fail_on_write = 0;  // 1-based; 0: never
  std::string body;
  std::vector<std::string> chunks;
};

TEST(FakeHttpClientTest, ServesScriptedResponseAndRecordsRequest) {
  FakeHttpClient http;
  http.Serve(kUrl, {.headers = {{"ETag", "\"x\""}}, .body = "hello"});
  net::HttpRequest request = Get();
  request.headers = {{"If-None-Match", "\"y\""}};

  auto response = http.Fetch(request);

  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->Header("etag"), "\"x\"");
  EXPECT_EQ(response->Header("Content-Length"), "5");
  EXPECT_EQ(response->effective_url, kUrl);
  EXPECT_EQ(http.RequestCount(kUrl), 1);
  EXPECT_EQ(http.TotalRequests(), 1);
  ASSERT_EQ(http.Requests(kUrl).size(), 1u);
  EXPECT_EQ(http.Requests(kUrl)[0].method, "GET");
  EXPECT_EQ(http.Requests(kUrl)[0].Header("if-none-match"), "\"y\"");
}

TEST(FakeHttpClientTest, UnscriptedUrlIsNotFound) {
  FakeHttpClient http;
  auto response = http.Fetch(Get("http://hub/missing"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kNotFound);
  EXPECT_EQ(response.error().http_status(), 404);
  EXPECT_EQ(http.RequestCount("http://hub/missing"), 1);
}

TEST(FakeHttpClientTest, ErrorStatusesGoThroughStatusFromHttp) {
  FakeHttpClient http;
  for (int code : {401, 403, 429, 500, 503}) {
    http.Serve(kUrl, {.status = code, .body = "error page"});
    auto response = http.Fetch(Get());
    ASSERT_FALSE(response.ok()) << code;
    EXPECT_EQ(response.error().http_status(), code);
    EXPECT_EQ(response.error().code(), net::StatusFromHttp(code, "GET", kUrl).code());
    EXPECT_EQ(response.error().message(), net::StatusFromHttp(code, "GET", kUrl).message());
  }
}

TEST(FakeHttpClientTest, SequenceRepeatsItsLastResponse) {
  FakeHttpClient http;
  http.ServeSequence(kUrl, {{.status = 503}, {.body = "a"}, {.body = "b"}});
  EXPECT_FALSE(http.Fetch(Get()).ok());
  EXPECT_EQ(http.Fetch(Get())->body, "a");
  EXPECT_EQ(http.Fetch(Get())->body, "b");
  EXPECT_EQ(http.Fetch(Get())->body, "b");
}

TEST(FakeHttpClientTest, RangeGets206WithContentRange) {
  FakeHttpClient http;
  http.Serve(kUrl, {.body = "0123456789"});
  net::HttpRequest request = Get();
  request.range = net::ByteRange{2, 5};

  auto response = http.Fetch(request);

  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 206);
  EXPECT_EQ(response->body, "2345");
  EXPECT_EQ(response->Header("Content-Range"), "bytes 2-5/10");
  ASSERT_TRUE(http.Requests(kUrl)[0].range.has_value());
  EXPECT_EQ(http.Requests(kUrl)[0].range->first, 2u);
}

TEST(FakeHttpClientTest, RangePastTheEndIsClippedOr416) {
  FakeHttpClient http;
  http.Serve(kUrl, {.body = "0123456789"});
  net::HttpRequest request = Get();
  request.range = net::ByteRange{8, 100};
  auto clipped = http.Fetch(request);
  ASSERT_TRUE(clipped.ok());
  EXPECT_EQ(clipped->body, "89");
  EXPECT_EQ(clipped->Header("Content-Range"), "bytes 8-9/10");

  request.range = net::ByteRange{10, 20};
  auto unsatisfiable = http.Fetch(request);
  ASSERT_FALSE(unsatisfiable.ok());
  EXPECT_EQ(unsatisfiable.error().http_status(), 416);
}

TEST(FakeHttpClientTest, RangeIgnoredWhenDisabled) {
  FakeHttpClient http;
  http.Serve(kUrl, {.body = "0123456789", .serve_ranges = false});
  net::HttpRequest request = Get();
  request.range = net::ByteRange{2, 5};
  auto response = http.Fetch(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "0123456789");
}

TEST(FakeHttpClientTest, NotModifiedOnlyForConditionalRequests) {
  FakeHttpClient http;
  http.Serve(kUrl, {.status = 304});
  net::HttpRequest conditional = Get();
  conditional.headers = {{"If-Modified-Since", "yesterday"}};
  auto response = http.Fetch(conditional);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 304);

  auto unconditional = http.Fetch(Get());
  ASSERT_FALSE(unconditional.ok());
  EXPECT_EQ(unconditional.error().code(), Code::kUnavailable);
  EXPECT_EQ(unconditional.error().http_status(), 304);
}

TEST(FakeHttpClientTest, HeadHasHeadersButNoBody) {
  FakeHttpClient http;
  http.Serve(kUrl, {.body = "12345"});
  net::HttpRequest request = Get();
  request.method = "HEAD";
  auto response = http.Fetch(request);
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->body, "");
  EXPECT_EQ(response->Header("Content-Length"), "5");
}

TEST(FakeHttpClientTest, FetchEnforcesMaxBodyBytes) {
  FakeHttpClient http;
  http.Serve(kUrl, {.body = std::string(100, 'x')});
  net::HttpRequest request = Get();
  request.max_body_bytes = 99;
  auto response = http.Fetch(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kResourceExhausted);
}

TEST(FakeHttpClientTest, StreamCallsBeginThenWritesChunks) {
  FakeHttpClient http;
  http.Serve(kUrl, {.body = "abcdefg", .chunk_size = 3});
  RecordingSink sink;

  auto response = http.Stream(Get(), sink);

  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->body, "");
  EXPECT_EQ(sink.begins, 1);
  EXPECT_EQ(sink.status, 200);
  EXPECT_EQ(sink.chunks, (std::vector<std::string>{"abc", "def", "g"}));
}

TEST(FakeHttpClientTest, StreamOfEmptyBodyStillBegins) {
  FakeHttpClient http;
  http.Serve(kUrl, {});
  RecordingSink sink;
  ASSERT_TRUE(http.Stream(Get(), sink).ok());
  EXPECT_EQ(sink.begins, 1);
  EXPECT_TRUE(sink.chunks.empty());
}

TEST(FakeHttpClientTest, StreamErrorStatusNeverReachesTheSink) {
  FakeHttpClient http;
  http.Serve(kUrl, {.status = 500, .body = "error page"});
  RecordingSink sink;
  auto response = http.Stream(Get(), sink);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kUnavailable);
  EXPECT_EQ(sink.begins, 0);
  EXPECT_EQ(sink.body, "");
}

TEST(FakeHttpClientTest, StreamReturnsTheSinksError) {
  FakeHttpClient http;
  http.Serve(kUrl, {.body = "abcdefg", .chunk_size = 2});
  RecordingSink sink;
  sink.fail_on_write = 2;
  auto response = http.Stream(Get(), sink);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code(), Code::kIoError);
  EXPECT_EQ(response.error().message(), "disk full");
  EXPECT_EQ(sink.chunks.size(), 2u) << "no write after the sink failed";
}

TEST(FakeHttpClientTest, TruncationEndsCleanlyOrWithTheGivenError) {
  FakeHttpClient http;
  http.Serve(kUrl, {.body = "abcdefg", .truncate_after = 3});
  RecordingSink clean;
  ASSERT_TRUE(http.Stream(Get(), clean).ok());
  EXPECT_EQ(clean.body, "abc");
  EXPECT_EQ(http.Fetch(Get())->body, "abc");

  http.Serve(kUrl, {.body = "abcdefg",
                    .truncate_after = 3,
                    .truncate_error = Status::Unavailable("connection reset")});
  RecordingSink reset;
  auto response = http.Stream(Get(), reset);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().message(), "connection reset");
  EXPECT_EQ(reset.body, "abc");
}

TEST(FakeHttpClientTest, FailNthFailsOnlyThatCall) {
  FakeHttpClient http;
  http.Serve(kUrl, {.body = "ok"});
  http.FailNth(kUrl, 2, Status::DeadlineExceeded("timed out"));
  RecordingSink sink;
  EXPECT_TRUE(http.Fetch(Get()).ok());
  auto second = http.Stream(Get(), sink);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(sink.begins, 0);
  EXPECT_TRUE(http.Fetch(Get()).ok());
  EXPECT_EQ(http.RequestCount(kUrl), 3);
}

TEST(FakeHttpClientTest, BlockHoldsCallsUntilUnblocked) {
  FakeHttpClient http;
  http.Serve(kUrl, {.body = "late"});
  http.Serve("http://hub/other", {.body = "free"});
  http.Block(kUrl);
  std::string got;
  std::thread caller([&] { got = http.Fetch(Get()).value().body; });

  EXPECT_TRUE(http.WaitForRequests(kUrl, 1));
  EXPECT_EQ(http.Fetch(Get("http://hub/other"))->body, "free") << "other URLs are not blocked";
  EXPECT_EQ(got, "");
  http.Unblock(kUrl);
  caller.join();
  EXPECT_EQ(got, "late");
}

TEST(FakeHttpClientTest, WaitForRequestsTimesOut) {
  FakeHttpClient http;
  EXPECT_FALSE(http.WaitForRequests(kUrl, 1, std::chrono::milliseconds(10)));
}

TEST(FakeHttpClientTest, DestructorReleasesBlockedCalls) {
  Status status;
  std::thread caller;
  {
    FakeHttpClient http;
    http.Block(kUrl);
    caller = std::thread([&] { status = http.Fetch(Get()).status(); });
    EXPECT_TRUE(http.WaitForRequests(kUrl, 1));
  }
  caller.join();
  EXPECT_EQ(status.code(), Code::kCancelled);
}

}  // namespace
}  // namespace hubfs::test
