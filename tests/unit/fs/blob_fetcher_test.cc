#include "hubfs/fs/blob_fetcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hubfs/fs/errno_map.h"
#include "testing/fake_http_client.h"
#include "testing/temp_dir.h"

namespace hubfs::fs {
namespace {

using hubfs::test::FakeHttpClient;

constexpr char kUrl[] = "http://hub/models/resnet.onnx";

hubs::RemoteObject Published(std::string_view body, std::string url = kUrl) {
  return {std::move(url), body.size(), Sha256::Of(body)};
}

std::string ReadAll(const cache::BlobFile& blob) {
  std::string out(blob.size(), '\0');
  auto n = blob.ReadAt(0, out.data(), out.size());
  EXPECT_TRUE(n.ok());
  out.resize(n.ok() ? *n : 0);
  return out;
}

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

class BlobFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = cache::Cache::Open(tmp_.Sub("cache"));
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    cache_ = std::move(opened).value();
    // Most tests look at one download at a time; FailureIsRememberedBriefly covers the memory.
    fetcher_ = std::make_unique<BlobFetcher>(http_, *cache_, BlobFetcher::Options{.failure_memory = std::chrono::milliseconds(0)});
  }

  std::optional<cache::BlobRecord> Record(const std::string& key) {
    auto record = cache_->GetBlob(key);
    EXPECT_TRUE(record.ok());
    return record.ok() ? *record : std::nullopt;
  }

  size_t TmpFiles() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e :
         std::filesystem::directory_iterator(tmp_.Sub("cache/tmp"))) {
      ++n;
    }
    return n;
  }

  // Expects `object` to fail verification and leave nothing behind.
  void ExpectRejectedAndNothingCached(const hubs::RemoteObject& object, const Status& error) {
    EXPECT_EQ(error.code(), Code::kDataLoss) << error.ToString();
    EXPECT_FALSE(Record(BlobFetcher::KeyFor(object)).has_value());
    EXPECT_EQ(TmpFiles(), 0u) << "the rejected download's temporary file must be removed";
  }

  hubfs::test::TempDir tmp_;
  FakeHttpClient http_;
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<BlobFetcher> fetcher_;
};

TEST_F(BlobFetcherTest, KeyIsDigestWhenPublishedElseUrl) {
  const auto published = Published("x");
  EXPECT_EQ(BlobFetcher::KeyFor(published), cache::BlobKeyForDigest(Sha256::Of("x")));
  const hubs::RemoteObject unpublished{kUrl, 1, std::nullopt};
  EXPECT_EQ(BlobFetcher::KeyFor(unpublished), cache::BlobKeyForUrl(kUrl));
}

TEST_F(BlobFetcherTest, DownloadsVerifiesAndServesSecondGetFromCache) {
  const std::string body = "model bytes";
  http_.Serve(kUrl, {.body = body});
  const auto object = Published(body);

  auto first = fetcher_->Get(object);

  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(ReadAll(**first), body);
  EXPECT_EQ(http_.RequestCount(kUrl), 1);
  EXPECT_EQ(fetcher_->counters().downloads, 1u);
  EXPECT_EQ(fetcher_->counters().downloaded_bytes, body.size());
  EXPECT_EQ(fetcher_->counters().cache_hits, 0u);
  EXPECT_EQ(fetcher_->counters().verify_failures, 0u);

  auto record = Record(BlobFetcher::KeyFor(object));
  ASSERT_TRUE(record.has_value());
  EXPECT_TRUE(record->published);
  EXPECT_EQ(record->size, body.size());
  EXPECT_EQ(record->sha256, Sha256::Of(body));
  EXPECT_EQ(record->source_url, kUrl);
  EXPECT_GT(record->created, 0);

  auto second = fetcher_->Get(object);

  ASSERT_TRUE(second.ok());
  EXPECT_EQ(ReadAll(**second), body);
  EXPECT_EQ(http_.RequestCount(kUrl), 1) << "a cache hit makes no request";
  EXPECT_EQ(fetcher_->counters().cache_hits, 1u);
  EXPECT_EQ(fetcher_->counters().downloads, 1u);
}

TEST_F(BlobFetcherTest, BodyDeliveredInSmallChunksIsAssembled) {
  std::string body;
  for (int i = 0; i < 1000; ++i) body += static_cast<char>(i * 7);
  http_.Serve(kUrl, {.body = body, .chunk_size = 7});

  auto blob = fetcher_->Get(Published(body));

  ASSERT_TRUE(blob.ok()) << blob.error().ToString();
  EXPECT_EQ(ReadAll(**blob), body);
}

TEST_F(BlobFetcherTest, ShaMismatchIsDataLossNamingBothDigestsAndCachesNothing) {
  const std::string body = "tampered bytes!";
  http_.Serve(kUrl, {.body = body});
  const hubs::RemoteObject object{kUrl, body.size(), Sha256::Of("original bytes!")};

  auto blob = fetcher_->Get(object);

  ASSERT_FALSE(blob.ok());
  ExpectRejectedAndNothingCached(object, blob.error());
  EXPECT_TRUE(Contains(blob.error().message(), ToHex(Sha256::Of("original bytes!"))))
      << blob.error().message();
  EXPECT_TRUE(Contains(blob.error().message(), ToHex(Sha256::Of(body)))) << blob.error().message();
  EXPECT_EQ(fetcher_->counters().verify_failures, 1u);

  // Nothing was cached, so the next Get asks the server again.
  auto again = fetcher_->Get(object);
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(http_.RequestCount(kUrl), 2);
}

TEST_F(BlobFetcherTest, FailedVerificationIsRetriedOnNextGet) {
  const std::string body = "the real bytes";
  http_.ServeSequence(kUrl, {{.body = "corrupted byte"}, {.body = body}});
  const auto object = Published(body);

  ASSERT_FALSE(fetcher_->Get(object).ok());
  auto blob = fetcher_->Get(object);

  ASSERT_TRUE(blob.ok()) << blob.error().ToString();
  EXPECT_EQ(ReadAll(**blob), body);
  EXPECT_EQ(http_.RequestCount(kUrl), 2);
}

TEST_F(BlobFetcherTest, ShortBodyIsDataLoss) {
  http_.Serve(kUrl, {.body = "12345"});
  const hubs::RemoteObject object{kUrl, 10, std::nullopt};

  auto blob = fetcher_->Get(object);

  ASSERT_FALSE(blob.ok());
  ExpectRejectedAndNothingCached(object, blob.error());
  EXPECT_TRUE(Contains(blob.error().message(), "5")) << blob.error().message();
  EXPECT_TRUE(Contains(blob.error().message(), "10")) << blob.error().message();
}

TEST_F(BlobFetcherTest, LongBodyIsDataLoss) {
  http_.Serve(kUrl, {.body = "0123456789", .chunk_size = 2});
  const hubs::RemoteObject object{kUrl, 3, std::nullopt};

  auto blob = fetcher_->Get(object);

  ASSERT_FALSE(blob.ok());
  ExpectRejectedAndNothingCached(object, blob.error());
  EXPECT_TRUE(Contains(blob.error().message(), "3")) << blob.error().message();
}

TEST_F(BlobFetcherTest, BodyTruncatedWithoutErrorIsDataLoss) {
  const std::string body = "complete body";
  http_.Serve(kUrl, {.body = body, .truncate_after = 4});
  const auto object = Published(body);

  auto blob = fetcher_->Get(object);

  ASSERT_FALSE(blob.ok());
  ExpectRejectedAndNothingCached(object, blob.error());
}

TEST_F(BlobFetcherTest, TransferErrorMidBodyIsReturnedAndNothingCached) {
  const std::string body = "complete body";
  http_.Serve(kUrl, {.body = body,
                     .truncate_after = 4,
                     .truncate_error = Status::Unavailable("GET: connection reset")});
  const auto object = Published(body);

  auto blob = fetcher_->Get(object);

  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.error().code(), Code::kUnavailable);
  EXPECT_FALSE(Record(BlobFetcher::KeyFor(object)).has_value());
  EXPECT_EQ(TmpFiles(), 0u);
}

std::string LfsPointer(std::string_view real_content) {
  return "version https://git-lfs.github.com/spec/v1\noid sha256:" +
         ToHex(Sha256::Of(real_content)) + "\nsize " + std::to_string(real_content.size()) + "\n";
}

TEST_F(BlobFetcherTest, GitLfsPointerIsDataLossMentioningLfs) {
  const std::string real(123, 'w');
  http_.Serve(kUrl, {.body = LfsPointer(real)});
  const auto object = Published(real);

  auto blob = fetcher_->Get(object);

  ASSERT_FALSE(blob.ok());
  ExpectRejectedAndNothingCached(object, blob.error());
  EXPECT_TRUE(Contains(blob.error().message(), "LFS")) << blob.error().message();
}

TEST_F(BlobFetcherTest, GitLfsPointerLongerThanPublishedSizeIsStillReportedAsLfs) {
  const std::string real(20, 'w');  // smaller than the pointer itself
  http_.Serve(kUrl, {.body = LfsPointer(real)});
  const auto object = Published(real);

  auto blob = fetcher_->Get(object);

  ASSERT_FALSE(blob.ok());
  ExpectRejectedAndNothingCached(object, blob.error());
  EXPECT_TRUE(Contains(blob.error().message(), "LFS")) << blob.error().message();
}

TEST_F(BlobFetcherTest, GitLfsPointerWithoutPublishedDigestIsNotPinned) {
  http_.Serve(kUrl, {.body = LfsPointer("whatever")});
  const hubs::RemoteObject object{kUrl, std::nullopt, std::nullopt};

  auto blob = fetcher_->Get(object);

  ASSERT_FALSE(blob.ok());
  ExpectRejectedAndNothingCached(object, blob.error());
  EXPECT_TRUE(Contains(blob.error().message(), "LFS")) << blob.error().message();
}

TEST_F(BlobFetcherTest, FailureIsRememberedBriefly) {
  const std::string body = "the real bytes";
  http_.ServeSequence(kUrl, {{.body = "corrupted byte"}, {.body = body}});
  const auto object = Published(body);
  BlobFetcher fetcher(http_, *cache_, BlobFetcher::Options{.failure_memory = std::chrono::hours(1)});

  auto first = fetcher.Get(object);
  auto again = fetcher.Get(object);

  ASSERT_FALSE(first.ok());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().ToString(), first.error().ToString());
  EXPECT_EQ(http_.RequestCount(kUrl), 1) << "a remembered failure makes no new request";
  EXPECT_EQ(fetcher.counters().verify_failures, 1u);
}

TEST_F(BlobFetcherTest, BadRequestForAListedFileIsAnIoError) {
  http_.Serve(kUrl, {.status = 400});

  auto blob = fetcher_->Get(Published("rejected"));

  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(ErrnoFor(blob.error()), EIO) << blob.error().ToString();
  EXPECT_EQ(blob.error().http_status(), 400);
}

TEST_F(BlobFetcherTest, NotFoundForAListedFileIsNotENOENT) {
  const auto object = Published("listed but gone");  // no script: the fake answers 404

  auto blob = fetcher_->Get(object);

  ASSERT_FALSE(blob.ok());
  EXPECT_NE(blob.error().code(), Code::kNotFound);
  EXPECT_EQ(ErrnoFor(blob.error()), EIO);
  EXPECT_TRUE(Contains(blob.error().message(), "404")) << blob.error().message();
}

TEST_F(BlobFetcherTest, OtherHttpErrorsKeepTheirCode) {
  http_.Serve(kUrl, {.status = 403});

  auto blob = fetcher_->Get(Published("gated"));

  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(blob.error().http_status(), 403);
}

TEST_F(BlobFetcherTest, PartialContentStatusIsRejected) {
  const std::string body = "whole file";
  http_.Serve(kUrl, {.status = 206, .body = body});

  auto blob = fetcher_->Get(Published(body));

  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.error().code(), Code::kDataLoss);
}

TEST_F(BlobFetcherTest, WithoutPublishedDigestKeyedByUrlAndDigestPinned) {
  const std::string body = "unpublished content";
  http_.Serve(kUrl, {.body = body});
  const hubs::RemoteObject object{kUrl, std::nullopt, std::nullopt};

  auto blob = fetcher_->Get(object);

  ASSERT_TRUE(blob.ok()) << blob.error().ToString();
  EXPECT_EQ(ReadAll(**blob), body);
  auto record = Record(cache::BlobKeyForUrl(kUrl));
  ASSERT_TRUE(record.has_value());
  EXPECT_FALSE(record->published);
  EXPECT_EQ(record->sha256, Sha256::Of(body));
  EXPECT_EQ(record->size, body.size());
  EXPECT_FALSE(Record(cache::BlobKeyForDigest(Sha256::Of(body))).has_value());

  // Pinned: a changed server body does not replace the cached one.
  http_.Serve(kUrl, {.body = "changed upstream"});
  auto again = fetcher_->Get(object);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ReadAll(**again), body);
  EXPECT_EQ(http_.RequestCount(kUrl), 1);
}

TEST_F(BlobFetcherTest, SameContentAtTwoUrlsSharesOneBlob) {
  const std::string body = "shared weights";
  http_.Serve("http://hub/a", {.body = body});
  http_.Serve("http://hub/b", {.body = body});

  ASSERT_TRUE(fetcher_->Get(Published(body, "http://hub/a")).ok());
  auto second = fetcher_->Get(Published(body, "http://hub/b"));

  ASSERT_TRUE(second.ok());
  EXPECT_EQ(http_.RequestCount("http://hub/b"), 0);
}

TEST_F(BlobFetcherTest, BlobDeletedBehindTheCacheIsDownloadedAgain) {
  const std::string body = "evicted by hand";
  http_.Serve(kUrl, {.body = body});
  const auto object = Published(body);
  ASSERT_TRUE(fetcher_->Get(object).ok());
  ASSERT_EQ(::unlink(cache_->BlobPath(BlobFetcher::KeyFor(object)).c_str()), 0);

  auto blob = fetcher_->Get(object);

  ASSERT_TRUE(blob.ok()) << blob.error().ToString();
  EXPECT_EQ(ReadAll(**blob), body);
  EXPECT_EQ(http_.RequestCount(kUrl), 2);
}

TEST_F(BlobFetcherTest, ConcurrentGetsShareOneDownload) {
  constexpr int kThreads = 8;
  std::string body(64 * 1024, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 31 + 7);
  http_.Serve(kUrl, {.body = body, .chunk_size = 4096});
  http_.Block(kUrl);
  const auto object = Published(body);

  std::vector<std::string> got(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto blob = fetcher_->Get(object);
      got[i] = blob.ok() ? ReadAll(**blob) : "error: " + blob.error().ToString();
    });
  }
  EXPECT_TRUE(http_.WaitForRequests(kUrl, 1));
  // Give the other threads time to join the download in flight.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  http_.Unblock(kUrl);
  for (auto& t : threads) t.join();

  EXPECT_EQ(http_.RequestCount(kUrl), 1);
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_TRUE(got[i] == body) << "thread " << i << ": " << got[i].substr(0, 80);
  }
  EXPECT_EQ(fetcher_->counters().downloads, 1u);
  EXPECT_EQ(fetcher_->counters().downloaded_bytes, body.size());
}

TEST_F(BlobFetcherTest, ConcurrentGetsOfDifferentObjectsDoNotWaitForEachOther) {
  http_.Serve("http://hub/slow", {.body = "slow"});
  http_.Serve("http://hub/fast", {.body = "fast"});
  http_.Block("http://hub/slow");

  std::thread slow([&] { EXPECT_TRUE(fetcher_->Get(Published("slow", "http://hub/slow")).ok()); });
  EXPECT_TRUE(http_.WaitForRequests("http://hub/slow", 1));
  auto fast = fetcher_->Get(Published("fast", "http://hub/fast"));  // must not block
  http_.Unblock("http://hub/slow");
  slow.join();

  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(ReadAll(**fast), "fast");
}

}  // namespace
}  // namespace hubfs::fs
