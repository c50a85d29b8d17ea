#include "hubfs/fs/document_cache.h"

#include <gtest/gtest.h>

#include <ctime>
#include <memory>
#include <string>

#include "testing/fake_http_client.h"
#include "testing/temp_dir.h"

namespace hubfs::fs {
namespace {

using hubfs::test::FakeHttpClient;
using hubfs::test::FakeResponse;

constexpr char kUrl[] = "http://hub/index.json";
constexpr int64_t kTtl = 60;
constexpr int64_t kStart = 1'700'000'000;

class DocumentCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = cache::Cache::Open(tmp_.Sub("cache"));
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    cache_ = std::move(opened).value();
    source_ = std::make_unique<CachedDocumentSource>(http_, *cache_, kTtl, [this] { return now_; });
  }

  void PutCopy(std::string body, int64_t fetched_at, std::string etag = "",
               std::string last_modified = "") {
    ASSERT_TRUE(
        cache_
            ->PutDoc(kUrl, {std::move(body), fetched_at, std::move(etag), std::move(last_modified), ""})
            .ok());
  }

  cache::DocRecord StoredCopy() {
    auto doc = cache_->GetDoc(kUrl);
    EXPECT_TRUE(doc.ok() && doc->has_value());
    return doc.ok() && doc->has_value() ? **doc : cache::DocRecord{};
  }

  hubfs::test::TempDir tmp_;
  FakeHttpClient http_;
  std::unique_ptr<cache::Cache> cache_;
  int64_t now_ = kStart;
  std::unique_ptr<CachedDocumentSource> source_;
};

TEST_F(DocumentCacheTest, NoCopyFetchesAndStoresWithValidators) {
  http_.Serve(kUrl, {.headers = {{"ETag", "\"v1\""}, {"Last-Modified", "Mon, 01 Jan 2024"}},
                     .body = "{\"models\": 1}"});

  auto doc = source_->Get(kUrl);

  ASSERT_TRUE(doc.ok()) << doc.error().ToString();
  EXPECT_EQ(doc->body, "{\"models\": 1}");
  EXPECT_EQ(doc->fetched_at, kStart);
  EXPECT_FALSE(doc->stale);
  EXPECT_EQ(doc->stale_reason, "");
  ASSERT_EQ(http_.RequestCount(kUrl), 1);
  const auto request = http_.Requests(kUrl)[0];
  EXPECT_EQ(request.method, "GET");
  EXPECT_FALSE(request.Header("If-None-Match"));
  EXPECT_FALSE(request.Header("If-Modified-Since"));

  const cache::DocRecord stored = StoredCopy();
  EXPECT_EQ(stored.body, "{\"models\": 1}");
  EXPECT_EQ(stored.fetched_at, kStart);
  EXPECT_EQ(stored.etag, "\"v1\"");
  EXPECT_EQ(stored.last_modified, "Mon, 01 Jan 2024");
}

TEST_F(DocumentCacheTest, FreshCopyIsServedWithoutAnyRequest) {
  PutCopy("cached body", kStart - (kTtl - 1), "\"e\"");

  auto doc = source_->Get(kUrl);

  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->body, "cached body");
  EXPECT_EQ(doc->fetched_at, kStart - (kTtl - 1));
  EXPECT_FALSE(doc->stale);
  EXPECT_EQ(http_.TotalRequests(), 0);
}

TEST_F(DocumentCacheTest, SecondGetWithinTtlMakesNoRequest) {
  http_.Serve(kUrl, {.body = "v1"});
  ASSERT_TRUE(source_->Get(kUrl).ok());
  now_ += kTtl - 1;
  http_.Serve(kUrl, {.body = "v2"});

  auto doc = source_->Get(kUrl);

  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->body, "v1");
  EXPECT_EQ(http_.RequestCount(kUrl), 1);
}

TEST_F(DocumentCacheTest, RevalidateAsksTheServerEvenForAFreshCopy) {
  PutCopy("old", kStart - 1, "\"e1\"");
  http_.Serve(kUrl, {.headers = {{"ETag", "\"e2\""}}, .body = "new"});

  auto doc = source_->Get(kUrl, {.revalidate = true});

  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->body, "new");
  ASSERT_EQ(http_.RequestCount(kUrl), 1);
  EXPECT_EQ(http_.Requests(kUrl)[0].Header("If-None-Match").value_or(""), "\"e1\"");
  EXPECT_EQ(StoredCopy().body, "new");
}

TEST_F(DocumentCacheTest, CopyExactlyTtlOldIsRevalidated) {
  PutCopy("old", kStart - kTtl, "\"e\"");
  http_.Serve(kUrl, {.status = 304});

  ASSERT_TRUE(source_->Get(kUrl).ok());

  EXPECT_EQ(http_.RequestCount(kUrl), 1);
}

TEST_F(DocumentCacheTest, ExpiredCopyRevalidatedNotModifiedKeepsBodyAndRefreshes) {
  PutCopy("old body", kStart - 1000, "\"e1\"", "Tue, 02 Jan 2024");
  http_.Serve(kUrl, {.status = 304});

  auto doc = source_->Get(kUrl);

  ASSERT_TRUE(doc.ok()) << doc.error().ToString();
  EXPECT_EQ(doc->body, "old body");
  EXPECT_EQ(doc->fetched_at, kStart);
  EXPECT_FALSE(doc->stale);
  ASSERT_EQ(http_.RequestCount(kUrl), 1);
  const auto request = http_.Requests(kUrl)[0];
  EXPECT_EQ(request.Header("If-None-Match"), "\"e1\"");
  EXPECT_EQ(request.Header("If-Modified-Since"), "Tue, 02 Jan 2024");

  const cache::DocRecord stored = StoredCopy();
  EXPECT_EQ(stored.body, "old body");
  EXPECT_EQ(stored.fetched_at, kStart);
  EXPECT_EQ(stored.etag, "\"e1\"");
  EXPECT_EQ(stored.last_modified, "Tue, 02 Jan 2024");

  // Refreshed: fresh again for another ttl.
  now_ += kTtl - 1;
  ASSERT_TRUE(source_->Get(kUrl).ok());
  EXPECT_EQ(http_.RequestCount(kUrl), 1);
}

TEST_F(DocumentCacheTest, ExpiredCopyReplacedByNewBody) {
  PutCopy("old body", kStart - 1000, "\"e1\"", "old date");
  http_.Serve(kUrl, {.headers = {{"ETag", "\"e2\""}}, .body = "new body"});

  auto doc = source_->Get(kUrl);

  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->body, "new body");
  EXPECT_EQ(doc->fetched_at, kStart);
  EXPECT_FALSE(doc->stale);
  const cache::DocRecord stored = StoredCopy();
  EXPECT_EQ(stored.body, "new body");
  EXPECT_EQ(stored.fetched_at, kStart);
  EXPECT_EQ(stored.etag, "\"e2\"");
  EXPECT_EQ(stored.last_modified, "") << "validators of the old body must not survive";
}

TEST_F(DocumentCacheTest, CopyWithoutValidatorsIsRefetchedUnconditionally) {
  PutCopy("old", kStart - 1000);
  http_.Serve(kUrl, {.body = "new"});

  auto doc = source_->Get(kUrl);

  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->body, "new");
  const auto request = http_.Requests(kUrl).at(0);
  EXPECT_FALSE(request.Header("If-None-Match"));
  EXPECT_FALSE(request.Header("If-Modified-Since"));
}

TEST_F(DocumentCacheTest, CopyFromTheFutureIsRevalidated) {
  // The clock went backwards (or the copy came from a host with a skewed clock).
  PutCopy("from the future", kStart + 100, "\"e\"");
  http_.Serve(kUrl, {.status = 304});

  auto doc = source_->Get(kUrl);

  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->body, "from the future");
  EXPECT_EQ(doc->fetched_at, kStart);
  EXPECT_EQ(http_.RequestCount(kUrl), 1);
}

TEST_F(DocumentCacheTest, ServerErrorWithCopyServesStaleCopyWithReason) {
  PutCopy("old body", kStart - 1000, "\"e1\"");
  http_.Serve(kUrl, {.status = 503});

  auto doc = source_->Get(kUrl);

  ASSERT_TRUE(doc.ok()) << doc.error().ToString();
  EXPECT_EQ(doc->body, "old body");
  EXPECT_EQ(doc->fetched_at, kStart - 1000);
  EXPECT_TRUE(doc->stale);
  EXPECT_NE(doc->stale_reason.find("HTTP 503"), std::string::npos) << doc->stale_reason;
  EXPECT_EQ(StoredCopy().fetched_at, kStart - 1000) << "a failure must not refresh the copy";
}

TEST_F(DocumentCacheTest, TransportErrorWithCopyServesStaleCopyWithReason) {
  PutCopy("old body", kStart - 1000);
  http_.FailNth(kUrl, 1, Status::Unavailable("GET http://hub/index.json: connection refused"));

  auto doc = source_->Get(kUrl);

  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE(doc->stale);
  EXPECT_NE(doc->stale_reason.find("connection refused"), std::string::npos) << doc->stale_reason;
}

TEST_F(DocumentCacheTest, ServerErrorWithoutCopyIsAnError) {
  http_.Serve(kUrl, {.status = 503});

  auto doc = source_->Get(kUrl);

  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().code(), Code::kUnavailable);
  EXPECT_EQ(doc.error().http_status(), 503);
  auto stored = cache_->GetDoc(kUrl);
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value());
}

TEST_F(DocumentCacheTest, NotFoundWithoutCopyKeepsTheServersCode) {
  auto doc = source_->Get("http://hub/unscripted.json");

  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().code(), Code::kNotFound);
  EXPECT_EQ(doc.error().http_status(), 404);
}

TEST_F(DocumentCacheTest, NotFoundIsRememberedForTheTtl) {
  const std::string url = "http://hub/model/aux.json";
  http_.Serve(url, {.status = 404});
  ASSERT_EQ(source_->Get(url).error().code(), Code::kNotFound);
  auto again = source_->Get(url);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().http_status(), 404);
  EXPECT_EQ(http_.RequestCount(url), 1) << "a 404 within the TTL is not asked again";
  EXPECT_FALSE(source_->Get(url, {.revalidate = true}).ok());
  EXPECT_EQ(http_.RequestCount(url), 2) << "refresh asks again";
  now_ += kTtl;
  http_.Serve(url, {.body = "{}"});
  auto appeared = source_->Get(url);
  ASSERT_TRUE(appeared.ok());
  EXPECT_EQ(appeared->body, "{}");
}

TEST_F(DocumentCacheTest, NotFoundReplacesAnOlderCopy) {
  PutCopy("old master.json", kStart - kTtl, "\"e\"");
  http_.Serve(kUrl, {.status = 404});
  auto doc = source_->Get(kUrl);
  ASSERT_FALSE(doc.ok()) << "the server says it is gone: the old copy must not stand in";
  EXPECT_EQ(doc.error().code(), Code::kNotFound);
  EXPECT_FALSE(source_->Get(kUrl).ok());
  EXPECT_EQ(http_.RequestCount(kUrl), 1);
}

TEST_F(DocumentCacheTest, CopiesAreKeptPerUrl) {
  http_.Serve("http://hub/a", {.body = "a"});
  http_.Serve("http://hub/b", {.body = "b"});
  ASSERT_EQ(source_->Get("http://hub/a")->body, "a");
  ASSERT_EQ(source_->Get("http://hub/b")->body, "b");
  EXPECT_EQ(source_->Get("http://hub/a")->body, "a");
  EXPECT_EQ(http_.TotalRequests(), 2);
}

TEST_F(DocumentCacheTest, DefaultClockIsWallTime) {
  CachedDocumentSource source(http_, *cache_, kTtl);
  PutCopy("written just now", static_cast<int64_t>(std::time(nullptr)));

  auto doc = source.Get(kUrl);

  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->body, "written just now");
  EXPECT_EQ(http_.TotalRequests(), 0);
}

}  // namespace
}  // namespace hubfs::fs
