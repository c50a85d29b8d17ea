#include "hubfs/fs/remote_sizes.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "testing/fake_http_client.h"
#include "testing/temp_dir.h"

namespace hubfs::fs {
namespace {

using hubfs::test::FakeHttpClient;

constexpr char kUrl[] = "http://store/model/snapshot.caffemodel";
constexpr int64_t kTtl = 600;

class RemoteSizesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = cache::Cache::Open(tmp_.Sub("cache")).value();
    sizes_ = NewSizes();
  }
  std::unique_ptr<RemoteSizes> NewSizes() {
    return std::make_unique<RemoteSizes>(http_, *cache_, kTtl, [this] { return now_; });
  }

  hubfs::test::TempDir tmp_;
  FakeHttpClient http_;
  std::unique_ptr<cache::Cache> cache_;
  int64_t now_ = 1'700'000'000;
  std::unique_ptr<RemoteSizes> sizes_;
};

TEST_F(RemoteSizesTest, HeadGivesSizeAndValidators) {
  http_.Serve(kUrl, {.headers = {{"ETag", "\"abc\""}, {"Last-Modified", "Mon"}}, .body = "0123456789"});
  auto size = sizes_->Get(kUrl);
  ASSERT_TRUE(size.ok()) << size.error().ToString();
  EXPECT_EQ(size->size, 10u);
  EXPECT_EQ(size->etag, "\"abc\"");
  EXPECT_EQ(size->last_modified, "Mon");
  ASSERT_EQ(http_.RequestCount(kUrl), 1);
  EXPECT_EQ(http_.Requests(kUrl)[0].method, "HEAD");
}

TEST_F(RemoteSizesTest, RememberedAcrossInstancesWithinTheTtl) {
  http_.Serve(kUrl, {.body = "0123456789"});
  ASSERT_TRUE(sizes_->Get(kUrl).ok());
  auto again = NewSizes()->Get(kUrl);  // as after a remount
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size, 10u);
  EXPECT_EQ(http_.RequestCount(kUrl), 1);
  now_ += kTtl;
  http_.Serve(kUrl, {.body = "0123456789AB"});
  EXPECT_EQ(NewSizes()->Get(kUrl)->size, 12u) << "older than the TTL: asked again";
  EXPECT_EQ(http_.RequestCount(kUrl), 2);
}

TEST_F(RemoteSizesTest, ExpireAsksAgain) {
  http_.Serve(kUrl, {.body = "0123456789"});
  ASSERT_TRUE(sizes_->Get(kUrl).ok());
  sizes_->Expire();
  http_.Serve(kUrl, {.body = "01234"});
  EXPECT_EQ(sizes_->Get(kUrl)->size, 5u);
}

TEST_F(RemoteSizesTest, ServerDownUsesARememberedSizeOfAnyAge) {
  http_.Serve(kUrl, {.body = "0123456789"});
  ASSERT_TRUE(sizes_->Get(kUrl).ok());
  now_ += 10 * kTtl;
  http_.Serve(kUrl, {.status = 503});
  auto size = sizes_->Get(kUrl);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(size->size, 10u);
}

TEST_F(RemoteSizesTest, NotFoundIsAnErrorRememberedForTheTtl) {
  http_.Serve(kUrl, {.status = 404});
  auto size = sizes_->Get(kUrl);
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.error().code(), Code::kNotFound);
  EXPECT_EQ(NewSizes()->Get(kUrl).error().code(), Code::kNotFound);
  EXPECT_EQ(http_.RequestCount(kUrl), 1);
  sizes_->Expire();
  http_.Serve(kUrl, {.body = "abc"});
  EXPECT_EQ(sizes_->Get(kUrl)->size, 3u) << "refresh asks again";
}

TEST_F(RemoteSizesTest, HeadRefusedFallsBackToARangeOfOneByte) {
  http_.ServeSequence(kUrl, {{.status = 405}, {.body = "0123456789"}});
  auto size = sizes_->Get(kUrl);
  ASSERT_TRUE(size.ok()) << size.error().ToString();
  EXPECT_EQ(size->size, 10u);
  ASSERT_EQ(http_.RequestCount(kUrl), 2);
  EXPECT_EQ(http_.Requests(kUrl)[1].method, "GET");
  ASSERT_TRUE(http_.Requests(kUrl)[1].range.has_value());
  EXPECT_EQ(http_.Requests(kUrl)[1].range->last, 0u);
}

TEST_F(RemoteSizesTest, MissingLengthIsAnErrorNotAGuess) {
  http_.Serve(kUrl, {.headers = {{"Content-Length", "many"}}, .body = "x"});
  auto size = sizes_->Get(kUrl);
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.error().message().find("Content-Length"), std::string::npos);
}

}  // namespace
}  // namespace hubfs::fs
