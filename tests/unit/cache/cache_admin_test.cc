// Cache administration (cache_admin.cc): Summarize, Verify, ShrinkTo, HasOtherUsers, Clear.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "hubfs/cache/cache.h"
#include "testing/disk_damage.h"
#include "testing/temp_dir.h"
#include "testing/test_bytes.h"

namespace hubfs::cache {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

// Writes `data` as blob `url` (keyed by its sha256), every block present; verified if asked.
std::string Store(Cache& cache, const std::string& url, const std::string& data, bool verify = true) {
  const Digest sha = Sha256::Of(data);
  const std::string key = BlobKeyForDigest(sha);
  auto blob = cache.OpenBlob(key, BlobSpec{data.size(), sha, url});
  EXPECT_TRUE(blob.ok()) << blob.error().ToString();
  for (uint64_t i = 0; i < (*blob)->block_count(); ++i) {
    auto writer = (*blob)->WriteBlock(i);
    EXPECT_TRUE(writer.ok()) << writer.error().ToString();
    const uint64_t start = i * kBlockSize;
    EXPECT_TRUE(writer->Append(std::string_view(data).substr(start, (*blob)->BlockLength(i))).ok());
    EXPECT_TRUE(writer->Commit().ok());
  }
  if (verify) {
    EXPECT_TRUE((*blob)->MarkVerified(sha).ok());
  }
  return key;
}

// Another process using the cache, as Cache::Open does: a shared OFD lock on index/users.lock.
struct FakeUser {
  int fd;
  explicit FakeUser(const std::string& dir) : fd(::open((dir + "/index/users.lock").c_str(), O_RDWR | O_CLOEXEC)) {
    struct flock lock {};
    lock.l_type = F_RDLCK;
    lock.l_start = int64_t{1} << 62;
    lock.l_len = 1;
    EXPECT_EQ(::fcntl(fd, F_OFD_SETLK, &lock), 0);
  }
  ~FakeUser() { ::close(fd); }
};

class CacheAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Cache::Open(dir_.Sub("cache"));
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    cache_ = std::move(opened).value();
  }
  test::TempDir dir_;
  std::unique_ptr<Cache> cache_;
};

TEST_F(CacheAdminTest, SummarizeCountsBlobsAndRecordKinds) {
  Store(*cache_, "http://h/a", test::Bytes(3 * kMiB, 1));
  Store(*cache_, "http://h/b", test::Bytes(1000, 2), /*verify=*/false);
  ASSERT_TRUE(cache_->PutDoc("http://h/manifest.json", DocRecord{"[]", 1, "", "", ""}).ok());
  ASSERT_TRUE(cache_->PutDoc("size http://h/c", DocRecord{"5\n\n\n", 1, "", "", ""}).ok());
  ASSERT_TRUE(cache_->PutTrust("http://h/d", TrustRecord{Sha256::Of("x"), 1, "", 1}).ok());
  auto s = cache_->Summarize();
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ(s->used_bytes, 3 * kMiB + 1000);
  ASSERT_EQ(s->blobs.size(), 2u);
  int verified = 0;
  for (const auto& e : s->blobs) verified += e.record.state == BlobState::kVerified;
  EXPECT_EQ(verified, 1);
  EXPECT_EQ(s->documents, 1u);
  EXPECT_EQ(s->size_records, 1u);
  EXPECT_EQ(s->trust_records, 1u);
  EXPECT_EQ(s->absent_records, 0u);
}

TEST_F(CacheAdminTest, VerifyFindsNothingInAHealthyCache) {
  Store(*cache_, "http://h/a", test::Bytes(5 * kMiB, 1));
  Store(*cache_, "http://h/b", test::Bytes(100, 2), false);
  uint64_t last_done = 0, last_total = 1;
  VerifyOptions options;
  options.progress = [&](uint64_t done, uint64_t total) { last_done = done, last_total = total; };
  auto report = cache_->Verify(options);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->bad.empty());
  EXPECT_EQ(report->blobs, 2u);
  EXPECT_EQ(report->blocks, 4u);
  EXPECT_EQ(report->hashed_blobs, 1u);
  EXPECT_EQ(last_done, last_total);
}

TEST_F(CacheAdminTest, VerifyReportsADamagedBlockAndFixRemovesTheBlob) {
  const std::string data = test::Bytes(5 * kMiB, 3);
  const std::string key = Store(*cache_, "http://h/a", data);
  test::FlipByte(cache_->BlobPath(key), kBlockSize + 10);
  auto report = cache_->Verify({});
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->bad.size(), 1u);
  EXPECT_EQ(report->bad[0].source_url, "http://h/a");
  EXPECT_NE(report->bad[0].problem.find("block 1 "), std::string::npos) << report->bad[0].problem;
  EXPECT_FALSE(report->bad[0].removed);
  EXPECT_TRUE(std::filesystem::exists(cache_->BlobPath(key)));  // without fix nothing changes

  VerifyOptions fix;
  fix.fix = true;
  report = cache_->Verify(fix);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->bad.size(), 1u);
  EXPECT_TRUE(report->bad[0].removed);
  EXPECT_FALSE(std::filesystem::exists(cache_->BlobPath(key)));
  EXPECT_FALSE(cache_->GetBlob(key)->has_value());
  EXPECT_EQ(cache_->Usage().used_bytes, 0u);
  EXPECT_TRUE(cache_->Verify({})->bad.empty());
}

TEST_F(CacheAdminTest, VerifyRecomputesTheWholeFileSha256OfVerifiedBlobs) {
  const std::string data = test::Bytes(3 * kMiB, 4);
  const Digest sha = Sha256::Of(data);
  const std::string key = BlobKeyForDigest(sha);
  auto blob = cache_->OpenBlob(key, BlobSpec{data.size(), sha, "http://h/a"});
  ASSERT_TRUE(blob.ok());
  for (uint64_t i = 0; i < 2; ++i) {
    auto w = (*blob)->WriteBlock(i);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->Append(std::string_view(data).substr(i * kBlockSize, (*blob)->BlockLength(i))).ok());
    ASSERT_TRUE(w->Commit().ok());
  }
  // Block digests match their bytes, but the blob claims a sha256 the bytes do not have.
  ASSERT_TRUE((*blob)->MarkVerified(Sha256::Of("something else")).ok());
  blob->reset();
  auto report = cache_->Verify({});
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->bad.size(), 1u);
  EXPECT_NE(report->bad[0].problem.find("sha256 of the cached bytes is " + ToHex(sha)), std::string::npos)
      << report->bad[0].problem;
}

TEST_F(CacheAdminTest, VerifyFixLeavesOpenBlobsAloneAndKeepsPins) {
  const std::string open_key = Store(*cache_, "http://h/open", test::Bytes(3 * kMiB, 5));
  const std::string pinned_key = Store(*cache_, "http://h/pinned", test::Bytes(3 * kMiB, 6));
  ASSERT_TRUE(cache_->SetPinned(pinned_key, true).ok());
  test::FlipByte(cache_->BlobPath(open_key), 7);
  test::FlipByte(cache_->BlobPath(pinned_key), 7);
  auto reader = cache_->OpenBlob(open_key, BlobSpec{3 * kMiB, std::nullopt, "http://h/open"});
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->AcquireUse().ok());
  VerifyOptions fix;
  fix.fix = true;
  auto report = cache_->Verify(fix);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->bad.size(), 2u);
  for (const BadBlob& bad : report->bad) {
    if (bad.key == open_key) {
      EXPECT_TRUE(bad.in_use);
      EXPECT_FALSE(bad.removed);
    } else {
      EXPECT_TRUE(bad.removed);
    }
  }
  EXPECT_TRUE(std::filesystem::exists(cache_->BlobPath(open_key)));
  auto pinned = cache_->GetBlob(pinned_key);
  ASSERT_TRUE(pinned.ok() && pinned->has_value());
  EXPECT_TRUE((*pinned)->pinned);
  EXPECT_EQ((*pinned)->cached_bytes, 0u);
  (*reader)->ReleaseUse();
}

TEST_F(CacheAdminTest, VerifyReportsPoisonedBlobsAndMissingFiles) {
  const std::string poisoned = Store(*cache_, "http://h/p", test::Bytes(100, 7), false);
  {
    auto blob = cache_->OpenBlob(poisoned, BlobSpec{100, std::nullopt, "http://h/p"});
    ASSERT_TRUE(blob.ok());
    ASSERT_TRUE((*blob)->MarkPoisoned("sha256 mismatch").ok());
  }
  const std::string gone = Store(*cache_, "http://h/g", test::Bytes(100, 8));
  ASSERT_EQ(::unlink(cache_->BlobPath(gone).c_str()), 0);
  auto report = cache_->Verify({});
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->bad.size(), 2u);
  for (const BadBlob& bad : report->bad) {
    if (bad.key == poisoned) {
      EXPECT_EQ(bad.problem, "poisoned: sha256 mismatch");
    } else {
      EXPECT_NE(bad.problem.find("file is missing"), std::string::npos) << bad.problem;
    }
  }
}

TEST_F(CacheAdminTest, ShrinkToEvictsLeastRecentlyUsedButNotPinned) {
  const std::string a = Store(*cache_, "http://h/a", test::Bytes(4 * kMiB, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string b = Store(*cache_, "http://h/b", test::Bytes(4 * kMiB, 2));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const std::string c = Store(*cache_, "http://h/c", test::Bytes(4 * kMiB, 3));
  ASSERT_TRUE(cache_->SetPinned(a, true).ok());  // the oldest, but pinned
  auto report = cache_->ShrinkTo(8 * kMiB);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->used_before, 12 * kMiB);
  EXPECT_EQ(report->used_after, 8 * kMiB);
  ASSERT_EQ(report->evicted.size(), 1u);
  EXPECT_EQ(report->evicted[0].key, b);
  EXPECT_EQ(report->evicted[0].source_url, "http://h/b");
  EXPECT_EQ(report->evicted[0].bytes, 4 * kMiB);
  // Below what pinned blobs hold: everything else goes, the pin stays.
  report = cache_->ShrinkTo(0);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->used_after, 4 * kMiB);
  EXPECT_TRUE(cache_->GetBlob(a)->has_value());
  EXPECT_FALSE(cache_->GetBlob(c)->has_value());
}

TEST_F(CacheAdminTest, HasOtherUsersSeesAnotherProcesssLock) {
  EXPECT_FALSE(cache_->HasOtherUsers());
  EXPECT_FALSE(cache_->HasOtherUsers());  // probing gives our shared lock back
  FakeUser other(cache_->dir());
  EXPECT_TRUE(cache_->HasOtherUsers());
}

TEST_F(CacheAdminTest, ClearRefusesWhileInUseUnlessForced) {
  const std::string a = Store(*cache_, "http://h/a", test::Bytes(3 * kMiB, 1));
  const std::string b = Store(*cache_, "http://h/b", test::Bytes(3 * kMiB, 2));
  ASSERT_TRUE(cache_->PutDoc("http://h/manifest.json", DocRecord{"[]", 1, "", "", ""}).ok());
  FakeUser other(cache_->dir());
  auto refused = cache_->Clear(/*force=*/false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(cache_->GetBlob(a)->has_value());

  auto reader = cache_->OpenBlob(a, BlobSpec{3 * kMiB, std::nullopt, "http://h/a"});
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->AcquireUse().ok());
  auto forced = cache_->Clear(/*force=*/true);
  ASSERT_TRUE(forced.ok()) << forced.error().ToString();
  EXPECT_FALSE(forced->exclusive);
  EXPECT_EQ(forced->removed_blobs, 1u);
  EXPECT_EQ(forced->kept_open_blobs, 1u);
  EXPECT_EQ(forced->documents_removed, 1u);
  EXPECT_TRUE(cache_->GetBlob(a)->has_value());
  EXPECT_FALSE(cache_->GetBlob(b)->has_value());
  EXPECT_EQ(cache_->Usage().used_bytes, 3 * kMiB);
  EXPECT_FALSE(cache_->GetDoc("http://h/manifest.json")->has_value());
  (*reader)->ReleaseUse();
}

TEST_F(CacheAdminTest, ClearAloneEmptiesEverythingButPins) {
  const std::string a = Store(*cache_, "http://h/a", test::Bytes(3 * kMiB, 1));
  const std::string b = Store(*cache_, "http://h/b", test::Bytes(3 * kMiB, 2));
  ASSERT_TRUE(cache_->SetPinned(b, true).ok());
  ASSERT_TRUE(cache_->PutTrust("http://h/t", TrustRecord{Sha256::Of("x"), 1, "", 1}).ok());
  auto report = cache_->Clear(/*force=*/false);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_TRUE(report->exclusive);
  EXPECT_EQ(report->removed_blobs, 2u);
  EXPECT_EQ(report->removed_bytes, 6 * kMiB);
  EXPECT_EQ(report->pins_kept, 1u);
  EXPECT_EQ(cache_->Usage().used_bytes, 0u);
  EXPECT_FALSE(cache_->GetBlob(a)->has_value());
  auto pinned = cache_->GetBlob(b);
  ASSERT_TRUE(pinned->has_value());
  EXPECT_TRUE((*pinned)->pinned);
  EXPECT_EQ((*pinned)->cached_bytes, 0u);
  EXPECT_FALSE(cache_->GetTrust("http://h/t")->has_value());
  EXPECT_TRUE(std::filesystem::is_empty(cache_->dir() + "/blobs"));
  EXPECT_FALSE(cache_->HasOtherUsers());  // our shared lock is back, and nobody else's
  // The cache works afterwards: the pinned blob fills again, keeping its pin.
  const std::string again = Store(*cache_, "http://h/b", test::Bytes(3 * kMiB, 2));
  EXPECT_EQ(again, b);
  EXPECT_TRUE((*cache_->GetBlob(b))->pinned);
  EXPECT_EQ(cache_->Usage().used_bytes, 3 * kMiB);
}

}  // namespace
}  // namespace hubfs::cache
