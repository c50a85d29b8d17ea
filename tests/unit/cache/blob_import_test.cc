#include "hubfs/cache/blob_import.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "testing/temp_dir.h"
#include "testing/test_bytes.h"

namespace hubfs::cache {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

struct FileState {
  std::string content;
  int64_t mtime_ns = 0;
  bool operator==(const FileState&) const = default;
};

FileState StateOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {content, static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

class BlobImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    Reopen();
  }

  void Reopen(CacheOptions options = {}) {
    cache_.reset();
    auto opened = Cache::Open(tmp_.Sub("cache"), options);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    cache_ = std::move(opened).value();
  }

  // Writes `data` to a file below the temp dir and returns its path.
  std::string Source(const std::string& name, const std::string& data) {
    const std::string path = tmp_.Sub(name);
    std::ofstream(path, std::ios::binary) << data;
    return path;
  }

  static BlobSpec SpecFor(const std::string& data) {
    return BlobSpec{data.size(), Sha256::Of(data), "http://hub/" + std::to_string(data.size())};
  }

  std::optional<BlobRecord> RecordOf(const std::string& data) {
    auto record = cache_->GetBlob(BlobKeyForDigest(Sha256::Of(data)));
    EXPECT_TRUE(record.ok());
    return record.ok() ? *record : std::nullopt;
  }

  // Every block of the blob of `data` reads back (digest-checked) as `data`.
  void ExpectCachedAs(const std::string& data) {
    auto blob = cache_->OpenBlob(BlobKeyForDigest(Sha256::Of(data)), SpecFor(data));
    ASSERT_TRUE(blob.ok()) << blob.error().ToString();
    std::string back(data.size(), '\0');
    for (uint64_t i = 0; i < (*blob)->block_count(); ++i) {
      Status s = (*blob)->ReadBlock(i, back.data() + i * kBlockSize);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    EXPECT_TRUE(back == data);
  }

  test::TempDir tmp_;
  std::unique_ptr<Cache> cache_;
};

TEST_F(BlobImportTest, ImportsEveryBlockMarksVerifiedAndLeavesTheSourceAlone) {
  const std::string data = test::Bytes(5 * kMiB + 123, 1);  // three blocks, the last one short
  const std::string path = Source("model.onnx", data);
  const FileState before = StateOf(path);

  auto outcome = ImportBlob(*cache_, SpecFor(data), path);
  ASSERT_TRUE(outcome.ok()) << outcome.error().ToString();
  EXPECT_FALSE(outcome->already_verified);
  EXPECT_EQ(outcome->bytes_copied, data.size());
  EXPECT_EQ(outcome->bytes_hashed, 2 * data.size());  // hashed, then copied
  auto record = RecordOf(data);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, BlobState::kVerified);
  EXPECT_TRUE(record->published);
  EXPECT_EQ(record->cached_bytes, data.size());
  EXPECT_EQ(record->source_url, SpecFor(data).source_url);
  EXPECT_EQ(cache_->Usage().used_bytes, data.size());
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
  ExpectCachedAs(data);
  EXPECT_EQ(StateOf(path), before);
}

TEST_F(BlobImportTest, AVerifiedBlobIsNotReadAgain) {
  const std::string data = test::Bytes(3 * kMiB, 2);
  const std::string path = Source("a", data);
  ASSERT_TRUE(ImportBlob(*cache_, SpecFor(data), path).ok());
  auto again = ImportBlob(*cache_, SpecFor(data), path);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_TRUE(again->already_verified);
  EXPECT_EQ(again->bytes_hashed, 0u);
  EXPECT_EQ(again->bytes_copied, 0u);
}

TEST_F(BlobImportTest, ATamperedFileIsRefusedAndTheCacheIsNotTouched) {
  const std::string data = test::Bytes(3 * kMiB, 3);
  std::string tampered = data;
  tampered[kBlockSize + 7] ^= 0x20;
  const std::string path = Source("tampered", tampered);
  const FileState before = StateOf(path);

  auto outcome = ImportBlob(*cache_, SpecFor(data), path);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code(), Code::kDataLoss) << outcome.error().ToString();
  EXPECT_NE(outcome.error().message().find("sha256 is " + ToHex(Sha256::Of(tampered))), std::string::npos)
      << outcome.error().message();
  EXPECT_FALSE(RecordOf(data));  // no record: the blob stays missing
  EXPECT_FALSE(std::filesystem::exists(cache_->BlobPath(BlobKeyForDigest(Sha256::Of(data)))));
  EXPECT_EQ(cache_->Usage().used_bytes, 0u);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
  EXPECT_EQ(StateOf(path), before);
}

TEST_F(BlobImportTest, RefusesSymlinksFifosMissingFilesAndOtherSizes) {
  const std::string data = test::Bytes(1000, 4);
  const std::string target = Source("target", data);
  const std::string link = tmp_.Sub("link");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  auto via_link = ImportBlob(*cache_, SpecFor(data), link);
  ASSERT_FALSE(via_link.ok());
  EXPECT_EQ(via_link.error().code(), Code::kFailedPrecondition) << via_link.error().ToString();

  const std::string fifo = tmp_.Sub("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto from_fifo = ImportBlob(*cache_, SpecFor(data), fifo);  // must not wait for a writer
  ASSERT_FALSE(from_fifo.ok());
  EXPECT_EQ(from_fifo.error().code(), Code::kFailedPrecondition) << from_fifo.error().ToString();

  auto missing = ImportBlob(*cache_, SpecFor(data), tmp_.Sub("nothing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Code::kNotFound) << missing.error().ToString();

  BlobSpec longer = SpecFor(data);
  longer.size += 1;
  auto other_size = ImportBlob(*cache_, longer, target);
  ASSERT_FALSE(other_size.ok());
  EXPECT_EQ(other_size.error().code(), Code::kFailedPrecondition) << other_size.error().ToString();

  BlobSpec no_digest = SpecFor(data);
  no_digest.sha256.reset();
  auto unchecked = ImportBlob(*cache_, no_digest, target);
  ASSERT_FALSE(unchecked.ok());
  EXPECT_EQ(unchecked.error().code(), Code::kInvalidArgument);
  EXPECT_FALSE(RecordOf(data));
}

TEST_F(BlobImportTest, NeverEvictsToMakeRoom) {
  Reopen(CacheOptions{5 * kMiB});
  // A cached file that is not open: an eviction candidate for downloads, not for imports.
  const std::string old = test::Bytes(3 * kMiB, 5);
  ASSERT_TRUE(ImportBlob(*cache_, SpecFor(old), Source("old", old)).ok());
  const std::string data = test::Bytes(3 * kMiB, 6);
  auto outcome = ImportBlob(*cache_, SpecFor(data), Source("new", data));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code(), Code::kResourceExhausted) << outcome.error().ToString();
  EXPECT_FALSE(RecordOf(data));
  auto kept = RecordOf(old);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->cached_bytes, old.size());
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
}

TEST_F(BlobImportTest, CompletesAPartlyDownloadedBlob) {
  const std::string data = test::Bytes(5 * kMiB, 7);
  {
    auto blob = cache_->OpenBlob(BlobKeyForDigest(Sha256::Of(data)), SpecFor(data));
    ASSERT_TRUE(blob.ok());
    auto writer = (*blob)->WriteBlock(1);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->Append(std::string_view(data).substr(kBlockSize, kBlockSize)).ok());
    ASSERT_TRUE(writer->Commit().ok());
  }
  auto outcome = ImportBlob(*cache_, SpecFor(data), Source("partial", data));
  ASSERT_TRUE(outcome.ok()) << outcome.error().ToString();
  EXPECT_EQ(outcome->bytes_copied, data.size() - kBlockSize);
  auto record = RecordOf(data);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, BlobState::kVerified);
  EXPECT_EQ(record->cached_bytes, data.size());
  ExpectCachedAs(data);
}

TEST_F(BlobImportTest, RefusesWhenRecordedBlocksDisagree) {
  const std::string data = test::Bytes(3 * kMiB, 8);
  {
    // A block digest recorded from other bytes (an earlier uncached read of a changed origin).
    auto blob = cache_->OpenBlob(BlobKeyForDigest(Sha256::Of(data)), SpecFor(data));
    ASSERT_TRUE(blob.ok());
    ASSERT_TRUE((*blob)->RecordDigest(0, test::Bytes(kBlockSize, 99)).ok());
  }
  auto outcome = ImportBlob(*cache_, SpecFor(data), Source("f", data));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code(), Code::kFailedPrecondition) << outcome.error().ToString();
  auto record = RecordOf(data);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, BlobState::kPartial);
  EXPECT_EQ(record->cached_bytes, 0u);
}

TEST_F(BlobImportTest, LeavesPoisonedBlobsAlone) {
  const std::string data = test::Bytes(1 * kMiB, 9);
  {
    auto blob = cache_->OpenBlob(BlobKeyForDigest(Sha256::Of(data)), SpecFor(data));
    ASSERT_TRUE(blob.ok());
    ASSERT_TRUE((*blob)->MarkPoisoned("sha256 mismatch").ok());
  }
  auto outcome = ImportBlob(*cache_, SpecFor(data), Source("f", data));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(RecordOf(data)->state, BlobState::kPoisoned);
}

TEST_F(BlobImportTest, LeavesABlobRecordedWithAnotherSizeAlone) {
  const std::string data = test::Bytes(3000, 11);
  BlobSpec other = SpecFor(data);
  other.size = 4000;  // what a reader opened it with (a size the server claimed)
  ASSERT_TRUE(cache_->OpenBlob(BlobKeyForDigest(*other.sha256), other).ok());
  auto outcome = ImportBlob(*cache_, SpecFor(data), Source("f", data));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code(), Code::kFailedPrecondition) << outcome.error().ToString();
  auto record = RecordOf(data);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->size, 4000u);
}

TEST_F(BlobImportTest, CancelStopsWithoutMarkingVerified) {
  const std::string data = test::Bytes(5 * kMiB, 10);
  int polls = 0;
  ImportOptions options;
  options.cancelled = [&polls] { return ++polls > 4; };  // during the copy (3 hash polls first)
  auto outcome = ImportBlob(*cache_, SpecFor(data), Source("f", data), options);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code(), Code::kCancelled);
  auto record = RecordOf(data);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->state, BlobState::kPartial);
  EXPECT_EQ(record->cached_bytes, kBlockSize);  // the block copied before the cancel is correct
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
  // A later import completes it.
  auto resumed = ImportBlob(*cache_, SpecFor(data), Source("f", data));
  ASSERT_TRUE(resumed.ok()) << resumed.error().ToString();
  EXPECT_EQ(resumed->bytes_copied, data.size() - kBlockSize);
  ExpectCachedAs(data);
}

TEST_F(BlobImportTest, AnEmptyFileImports) {
  const std::string data;
  auto outcome = ImportBlob(*cache_, SpecFor(data), Source("empty", data));
  ASSERT_TRUE(outcome.ok()) << outcome.error().ToString();
  EXPECT_EQ(RecordOf(data)->state, BlobState::kVerified);
}

}  // namespace
}  // namespace hubfs::cache
