// MirrorClient: which requests go to the site cache, how their URLs are written, and what happens
// when the site cache cannot be reached.
#include "hubfs/net/mirror_client.h"

#include <gtest/gtest.h>

#include <vector>

#include "testing/fake_http_client.h"

namespace hubfs::net {
namespace {

constexpr char kMirror[] = "http://cache.test:8080";

HttpRequest Get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  return r;
}

// Records each request's attempt budget, which FakeHttpClient does not keep.
class AttemptsRecorder final : public HttpClient {
 public:
  explicit AttemptsRecorder(HttpClient& next) : next_(next) {}
  Result<HttpResponse> Fetch(const HttpRequest& request) override {
    attempts.push_back(request.max_attempts);
    return next_.Fetch(request);
  }
  Result<HttpResponse> Stream(const HttpRequest& request, ByteSink& sink) override {
    attempts.push_back(request.max_attempts);
    return next_.Stream(request, sink);
  }
  std::vector<int> attempts;

 private:
  HttpClient& next_;
};

class StringSink final : public ByteSink {
 public:
  Status Write(std::string_view data) override {
    body.append(data);
    return Status();
  }
  std::string body;
};

MirrorRoute Route(std::vector<std::string> prefixes, bool fallback = false, bool credentials = false) {
  return MirrorRoute{"hub onnx", kMirror, std::move(prefixes), fallback, credentials};
}

TEST(MirrorUrl, PutsTheOriginHostInThePath) {
  EXPECT_EQ(MirrorUrl("http://c:8080", "https://raw.githubusercontent.com/onnx/models/main/M.json"),
            "http://c:8080/raw.githubusercontent.com/onnx/models/main/M.json");
  // Lower-cased host, default port and credentials dropped, other ports kept, query kept.
  EXPECT_EQ(MirrorUrl("http://c/", "https://User:pw@HuggingFace.CO:443/api/x?cursor=a%2Fb"),
            "http://c/huggingface.co/api/x?cursor=a%2Fb");
  EXPECT_EQ(MirrorUrl("https://c/site/", "http://127.0.0.1:8123"), "https://c/site/127.0.0.1:8123/");
  EXPECT_EQ(MirrorUrl("http://c", "http://h:80?q"), "http://c/h/?q");
}

TEST(MirrorClient, SendsOnlyTheRoutesPrefixesToTheMirror) {
  test::FakeHttpClient fake;
  fake.Serve("http://cache.test:8080/raw.test/onnx/models/main/M.json", {.body = "via mirror"});
  fake.Serve("https://raw.test/onnx/models/mainline/M.json", {.body = "direct"});
  fake.Serve("https://other.test/x", {.body = "direct"});
  MirrorClient client(fake, {Route({"https://RAW.test:443/onnx/models/main/"})});
  auto mirrored = client.Fetch(Get("https://raw.test/onnx/models/main/M.json"));
  ASSERT_TRUE(mirrored) << mirrored.error().ToString();
  EXPECT_EQ(mirrored->body, "via mirror");
  // A prefix ends at a path boundary; other hosts are never touched.
  EXPECT_EQ(client.Fetch(Get("https://raw.test/onnx/models/mainline/M.json"))->body, "direct");
  EXPECT_EQ(client.Fetch(Get("https://other.test/x"))->body, "direct");
  EXPECT_EQ(fake.TotalRequests(), 3);
}

TEST(MirrorClient, TheLongestPrefixPicksTheRoute) {
  test::FakeHttpClient fake;
  fake.Serve("http://second.test/h.test/a/b/f", {.body = "second"});
  MirrorClient client(fake, {Route({"http://h.test/a"}),
                             MirrorRoute{"hub two", "http://second.test", {"http://h.test/a/b"}, false, false}});
  auto r = client.Fetch(Get("http://h.test/a/b/f"));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->body, "second");
}

TEST(MirrorClient, WithoutFallbackAnUnreachableMirrorIsTheAnswer) {
  test::FakeHttpClient fake;
  AttemptsRecorder recorder(fake);
  fake.FailNth("http://cache.test:8080/h.test/f", 1, Status::Unavailable("GET …: connection refused"));
  fake.Serve("http://h.test/f", {.body = "origin"});
  MirrorClient client(recorder, {Route({"http://h.test"})});
  auto r = client.Fetch(Get("http://h.test/f"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("hub onnx, through its site cache"), std::string::npos);
  EXPECT_EQ(fake.RequestCount("http://h.test/f"), 0);
  EXPECT_EQ(recorder.attempts, std::vector<int>{3});  // the client's own retries apply
}

TEST(MirrorClient, WithFallbackTheOriginAnswersAndTheMirrorRestsForAWhile) {
  test::FakeHttpClient fake;
  AttemptsRecorder recorder(fake);
  fake.Serve("http://cache.test:8080/h.test/f", {.status = 502});
  fake.Serve("http://h.test/f", {.body = "origin"});
  MirrorClient client(recorder, {Route({"http://h.test"}, /*fallback=*/true)}, {std::chrono::hours(1)});
  for (int i = 0; i < 3; ++i) {
    auto r = client.Fetch(Get("http://h.test/f"));
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->body, "origin");
  }
  EXPECT_EQ(fake.RequestCount("http://cache.test:8080/h.test/f"), 1);  // then skipped for an hour
  EXPECT_EQ(fake.RequestCount("http://h.test/f"), 3);
  EXPECT_EQ(recorder.attempts, (std::vector<int>{1, 3, 3, 3}));  // one mirror attempt, full origin retries
}

TEST(MirrorClient, AFallbackRouteTriesTheMirrorAgainAfterItsRest) {
  test::FakeHttpClient fake;
  fake.ServeSequence("http://cache.test:8080/h.test/f", {{.status = 503}, {.body = "mirror"}});
  fake.Serve("http://h.test/f", {.body = "origin"});
  MirrorClient client(fake, {Route({"http://h.test"}, /*fallback=*/true)}, {std::chrono::milliseconds(0)});
  EXPECT_EQ(client.Fetch(Get("http://h.test/f"))->body, "origin");
  EXPECT_EQ(client.Fetch(Get("http://h.test/f"))->body, "mirror");
}

TEST(MirrorClient, AMirrorsRefusalIsFinalEvenWithFallback) {
  test::FakeHttpClient fake;
  fake.Serve("http://cache.test:8080/h.test/missing", {.status = 404});
  fake.Serve("http://cache.test:8080/h.test/gated", {.status = 403});
  MirrorClient client(fake, {Route({"http://h.test"}, /*fallback=*/true)});
  auto missing = client.Fetch(Get("http://h.test/missing"));
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().IsNotFound());
  EXPECT_EQ(missing.error().http_status(), 404);
  auto gated = client.Fetch(Get("http://h.test/gated"));
  ASSERT_FALSE(gated);
  EXPECT_EQ(gated.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(fake.RequestCount("http://h.test/missing") + fake.RequestCount("http://h.test/gated"), 0);
}

TEST(MirrorClient, NoFallbackOnceBodyBytesWereDelivered) {
  test::FakeHttpClient fake;
  fake.Serve("http://cache.test:8080/h.test/f",
             {.body = "0123456789", .truncate_after = 4, .truncate_error = Status::Unavailable("reset")});
  fake.Serve("http://h.test/f", {.body = "0123456789"});
  MirrorClient client(fake, {Route({"http://h.test"}, /*fallback=*/true)});
  StringSink sink;
  auto r = client.Stream(Get("http://h.test/f"), sink);
  ASSERT_FALSE(r);
  EXPECT_EQ(sink.body, "0123");  // never "0123" followed by the origin's whole body
  EXPECT_EQ(fake.RequestCount("http://h.test/f"), 0);
}

TEST(MirrorClient, StreamsFallBackBeforeTheFirstByte) {
  test::FakeHttpClient fake;
  fake.FailNth("http://cache.test:8080/h.test/f", 1, Status::DeadlineExceeded("connect timed out"));
  fake.Serve("http://h.test/f", {.body = "0123456789"});
  MirrorClient client(fake, {Route({"http://h.test"}, /*fallback=*/true)});
  StringSink sink;
  HttpRequest request = Get("http://h.test/f");
  request.range = ByteRange{2, 4};
  ASSERT_TRUE(client.Stream(request, sink));
  EXPECT_EQ(sink.body, "234");
}

TEST(MirrorClient, TokensGoToTheMirrorOnlyWhenTheRouteAllowsIt) {
  test::FakeHttpClient fake;
  fake.Serve("http://h.test/f", {.body = "origin"});
  fake.Serve("http://cache.test:8080/h.test/f", {.body = "mirror"});
  HttpRequest with_token = Get("http://h.test/f");
  with_token.headers.emplace_back("authorization", "Bearer hf_secret");
  MirrorClient closed(fake, {Route({"http://h.test"})});
  EXPECT_EQ(closed.Fetch(with_token)->body, "origin");
  EXPECT_EQ(closed.Fetch(Get("http://h.test/f"))->body, "mirror");
  MirrorClient open(fake, {Route({"http://h.test"}, false, /*credentials=*/true)});
  EXPECT_EQ(open.Fetch(with_token)->body, "mirror");
  const auto at_mirror = fake.Requests("http://cache.test:8080/h.test/f");
  ASSERT_EQ(at_mirror.size(), 2u);
  EXPECT_FALSE(at_mirror[0].Header("Authorization"));
  EXPECT_EQ(at_mirror[1].Header("Authorization"), "Bearer hf_secret");
}

}  // namespace
}  // namespace hubfs::net
