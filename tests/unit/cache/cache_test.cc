#include "hubfs/cache/cache.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <lmdb.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "cache/record_codec.h"
#include "testing/disk_damage.h"
#include "testing/test_bytes.h"
#include "testing/temp_dir.h"

namespace hubfs::cache {
namespace {

namespace stdfs = std::filesystem;

constexpr uint64_t kMiB = uint64_t{1} << 20;

bool IsDir(const std::string& path) { return stdfs::is_directory(path); }
bool Exists(const std::string& path) { return stdfs::exists(path); }

using hubfs::test::Bytes;

// 512-byte units allocated to the file (sparse files and punched holes allocate nothing).
int64_t AllocatedBlocks(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_blocks);
}

int64_t FileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_size);
}

using hubfs::test::FlipByte;

// Opens the index with the LMDB C API, bypassing Cache, and runs `body` in a write transaction.
// Only while no Cache of this process has the index open: LMDB forbids opening one environment
// twice in a process.
void WithRawIndex(const std::string& index_dir,
                  const std::function<void(MDB_txn*, MDB_dbi meta, MDB_dbi blobs)>& body) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 8), 0);
  ASSERT_EQ(mdb_env_set_mapsize(env, size_t{1} << 34), 0);
  ASSERT_EQ(mdb_env_open(env, index_dir.c_str(), MDB_NOTLS, 0600), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi meta, blobs;
  ASSERT_EQ(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
  ASSERT_EQ(mdb_dbi_open(txn, "blobs", MDB_CREATE, &blobs), 0);
  body(txn, meta, blobs);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

void WriteFormatVersion(const std::string& index_dir, std::string_view raw) {
  WithRawIndex(index_dir, [&](MDB_txn* txn, MDB_dbi meta, MDB_dbi) {
    MDB_val key{14, const_cast<char*>("format_version")};
    MDB_val value{raw.size(), const_cast<char*>(raw.data())};
    ASSERT_EQ(mdb_put(txn, meta, &key, &value, 0), 0);
  });
}

std::string ReadFormatVersion(const std::string& index_dir) {
  std::string out;
  WithRawIndex(index_dir, [&](MDB_txn* txn, MDB_dbi meta, MDB_dbi) {
    MDB_val key{14, const_cast<char*>("format_version")};
    MDB_val value{};
    if (mdb_get(txn, meta, &key, &value) == 0) {
      out.assign(static_cast<const char*>(value.mv_data), value.mv_size);
    }
  });
  return out;
}

// Rewrites the last-access time in the stored record of `key` (eviction order).
void SetLastAccess(const std::string& index_dir, const std::string& key, int64_t when) {
  WithRawIndex(index_dir, [&](MDB_txn* txn, MDB_dbi, MDB_dbi blobs) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{};
    ASSERT_EQ(mdb_get(txn, blobs, &k, &v), 0) << key;
    auto record = DecodeBlobRecord(std::string_view(static_cast<const char*>(v.mv_data), v.mv_size));
    ASSERT_TRUE(record.ok());
    record->last_access = when;
    const std::string encoded = EncodeBlobRecord(*record);
    MDB_val nv{encoded.size(), const_cast<char*>(encoded.data())};
    ASSERT_EQ(mdb_put(txn, blobs, &k, &nv, 0), 0);
  });
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string LittleEndian32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

// Runs `body` in a child process and returns its exit code (0: success). LMDB forbids opening one
// environment twice in the same process, so a second Cache on the same folder has to live in
// another process, as it does in real use. The child never returns into the test framework.
int RunInChild(const std::function<int()>& body, pid_t* started = nullptr) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int rc = 100;
    try {
      rc = body();
    } catch (...) {
      rc = 101;
    }
    ::_exit(rc);
  }
  if (started != nullptr) {
    *started = pid;
    return 0;
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -2;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int WaitChild(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -2;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A one-way channel between the test and a child process.
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { EXPECT_EQ(::pipe(fds), 0); }
  ~Pipe() {
    for (int fd : fds) {
      if (fd >= 0) ::close(fd);
    }
  }
  bool Send(char c) { return ::write(fds[1], &c, 1) == 1; }
  // The next byte, or 0 after `timeout_ms` (or at end of file).
  char Receive(int timeout_ms = 10000) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return 0;
    char c = 0;
    return ::read(fds[0], &c, 1) == 1 ? c : 0;
  }
};

BlobSpec SpecFor(std::string_view data, std::string url = "http://hub/file") {
  return BlobSpec{data.size(), Sha256::Of(data), std::move(url)};
}

// Writes block `index` of `data` (the whole blob's content) and commits it.
Status PutBlock(Blob& blob, uint64_t index, std::string_view data, bool background = false) {
  HUBFS_ASSIGN_OR_RETURN(Blob::Writer writer, blob.WriteBlock(index, background));
  std::string_view block = data.substr(index * kBlockSize, blob.BlockLength(index));
  HUBFS_RETURN_IF_ERROR(writer.Append(block));
  return writer.Commit();
}

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    dir_ = tmp_.Sub("cache");
    Reopen();
  }

  void Reopen(CacheOptions options = {}) {
    cache_.reset();
    auto opened = Cache::Open(dir_, options);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    cache_ = std::move(opened).value();
  }

  std::shared_ptr<Blob> Open(std::string_view data, std::string url = "http://hub/file") {
    auto blob = cache_->OpenBlob(BlobKeyForDigest(Sha256::Of(data)), SpecFor(data, std::move(url)));
    EXPECT_TRUE(blob.ok()) << blob.error().ToString();
    return blob.ok() ? *blob : nullptr;
  }

  // Opens the blob of `data` and stores every block; returns the open blob.
  std::shared_ptr<Blob> Store(std::string_view data) {
    auto blob = Open(data);
    if (!blob) return nullptr;
    for (uint64_t i = 0; i < blob->block_count(); ++i) {
      Status s = PutBlock(*blob, i, data);
      EXPECT_TRUE(s.ok()) << "block " << i << ": " << s.ToString();
    }
    return blob;
  }

  std::optional<BlobRecord> Record(const std::string& key) {
    auto record = cache_->GetBlob(key);
    EXPECT_TRUE(record.ok()) << record.error().ToString();
    return record.ok() ? *record : std::nullopt;
  }

  static std::string Key(std::string_view data) { return BlobKeyForDigest(Sha256::Of(data)); }

  uint64_t Used() { return cache_->Usage().used_bytes; }

  hubfs::test::TempDir tmp_;
  std::string dir_;
  std::unique_ptr<Cache> cache_;
};

// ---- layout, keys, records ----------------------------------------------------------------------

TEST_F(CacheTest, OpenCreatesLayoutWithCurrentFormatAndEmptyUsage) {
  EXPECT_TRUE(IsDir(dir_ + "/index"));
  EXPECT_TRUE(Exists(dir_ + "/index/data.mdb"));
  EXPECT_TRUE(IsDir(dir_ + "/blobs"));
  EXPECT_EQ(cache_->dir(), dir_);
  EXPECT_EQ(cache_->Usage().used_bytes, 0u);
  EXPECT_EQ(cache_->Usage().size_limit, UINT64_MAX);
  cache_.reset();
  EXPECT_EQ(ReadFormatVersion(dir_ + "/index"), LittleEndian32(kFormatVersion));
}

TEST_F(CacheTest, OpenFailsWhenParentIsMissing) {
  auto opened = Cache::Open(tmp_.Sub("no/such/parent"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), Code::kIoError);
}

TEST_F(CacheTest, UsageReportsTheConfiguredLimit) {
  Reopen({.size_limit = 12345});
  EXPECT_EQ(cache_->Usage().size_limit, 12345u);
}

TEST_F(CacheTest, KeysAndBlobPath) {
  const Digest d = Sha256::Of("abc");
  const std::string hex = ToHex(d);
  EXPECT_EQ(BlobKeyForDigest(d), "sha256:" + hex);
  EXPECT_EQ(BlobKeyForUrl("http://h/x"), "url:" + ToHex(Sha256::Of("http://h/x")));
  EXPECT_NE(BlobKeyForUrl("http://h/x"), BlobKeyForUrl("http://h/y"));
  EXPECT_EQ(cache_->BlobPath(BlobKeyForDigest(d)),
            dir_ + "/blobs/" + hex.substr(0, 2) + "/sha256-" + hex);
  const std::string url_hex = ToHex(Sha256::Of("http://h/x"));
  EXPECT_EQ(cache_->BlobPath(BlobKeyForUrl("http://h/x")),
            dir_ + "/blobs/" + url_hex.substr(0, 2) + "/url-" + url_hex);
}

TEST_F(CacheTest, BlockDigestIsIncrementalAndContentSensitive) {
  const std::string data = Bytes(100000, 1);
  BlockHasher hasher;
  hasher.Update(std::string_view(data).substr(0, 1));
  hasher.Update(std::string_view(data).substr(1, 4095));
  hasher.Update(std::string_view(data).substr(4096));
  EXPECT_EQ(hasher.Finish(), DigestBlock(data));
  std::string other = data;
  other[50000] ^= 1;
  EXPECT_NE(DigestBlock(other), DigestBlock(data));
  EXPECT_NE(DigestBlock(""), DigestBlock(std::string(1, '\0')));
}

TEST_F(CacheTest, UnknownBlobHasNoRecord) {
  EXPECT_FALSE(Record("sha256:" + std::string(64, '0')).has_value());
}

TEST_F(CacheTest, OpenBlobCreatesRecordAndSparseFileOfTheRightSize) {
  const std::string data = Bytes(2 * kBlockSize + kBlockSize / 2, 7);
  const std::string key = Key(data);
  const int64_t before = static_cast<int64_t>(std::time(nullptr));
  const int64_t before_ms = NowMillis();
  auto blob = Open(data, "http://hub/model.onnx");
  ASSERT_TRUE(blob);

  EXPECT_EQ(blob->key(), key);
  EXPECT_EQ(blob->size(), data.size());
  EXPECT_EQ(blob->block_count(), 3u);
  EXPECT_EQ(blob->BlockLength(0), kBlockSize);
  EXPECT_EQ(blob->BlockLength(1), kBlockSize);
  EXPECT_EQ(blob->BlockLength(2), kBlockSize / 2) << "the last block is short";
  EXPECT_EQ(blob->BlockLength(3), 0u);

  const std::string path = cache_->BlobPath(key);
  EXPECT_EQ(FileSize(path), static_cast<int64_t>(data.size()));
  EXPECT_EQ(AllocatedBlocks(path), 0) << "a new blob file is sparse";

  auto record = Record(key);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->size, data.size());
  EXPECT_EQ(record->sha256, Sha256::Of(data));
  EXPECT_TRUE(record->published);
  EXPECT_EQ(record->state, BlobState::kPartial);
  EXPECT_FALSE(record->pinned);
  EXPECT_EQ(record->cached_bytes, 0u);
  EXPECT_EQ(record->source_url, "http://hub/model.onnx");
  EXPECT_GE(record->created, before);
  EXPECT_GE(record->last_access, before_ms) << "milliseconds";
  EXPECT_EQ(record->note, "");

  auto via_blob = blob->Record();
  ASSERT_TRUE(via_blob.ok());
  EXPECT_EQ(via_blob->size, data.size());

  for (uint64_t i = 0; i < 3; ++i) {
    auto info = blob->Block(i);
    ASSERT_TRUE(info.ok());
    EXPECT_FALSE(info->present);
    EXPECT_FALSE(info->digest_known);
  }
  EXPECT_EQ(Used(), 0u);
}

TEST_F(CacheTest, BlobWithoutPublishedDigestIsKeyedByUrl) {
  const std::string key = BlobKeyForUrl("http://hub/unpinned");
  auto blob = cache_->OpenBlob(key, BlobSpec{10, std::nullopt, "http://hub/unpinned"});
  ASSERT_TRUE(blob.ok()) << blob.error().ToString();
  auto record = Record(key);
  ASSERT_TRUE(record.has_value());
  EXPECT_FALSE(record->sha256.has_value());
  EXPECT_FALSE(record->published);
  EXPECT_TRUE(Exists(cache_->BlobPath(key)));
}

TEST_F(CacheTest, EmptyBlobHasNoBlocks) {
  auto blob = Open("");
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->size(), 0u);
  EXPECT_EQ(blob->block_count(), 0u);
  EXPECT_EQ(FileSize(cache_->BlobPath(Key(""))), 0);
}

// ---- writing and reading blocks -----------------------------------------------------------------

TEST_F(CacheTest, CommittedBlockIsPresentAndReadable) {
  const std::string data = Bytes(2 * kBlockSize + 1000, 1);
  auto blob = Open(data);
  ASSERT_TRUE(blob);

  auto writer = blob->WriteBlock(1);
  ASSERT_TRUE(writer.ok()) << writer.error().ToString();
  EXPECT_EQ(cache_->Usage().reserved_bytes, kBlockSize) << "the writer reserves its block";
  EXPECT_EQ(Used(), 0u);
  const std::string_view block = std::string_view(data).substr(kBlockSize, kBlockSize);
  ASSERT_TRUE(writer->Append(block.substr(0, 1000)).ok());
  ASSERT_TRUE(writer->Append(block.substr(1000)).ok());
  EXPECT_EQ(writer->written(), kBlockSize);
  ASSERT_TRUE(writer->Commit().ok());
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u) << "the reservation became used bytes";

  auto info = blob->Block(1);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->present);
  EXPECT_TRUE(info->digest_known);
  EXPECT_EQ(info->digest, DigestBlock(block));
  EXPECT_FALSE(blob->Block(0)->present);
  EXPECT_FALSE(blob->Block(2)->present);

  std::string buf(kBlockSize, '\0');
  ASSERT_TRUE(blob->ReadBlock(1, buf.data()).ok());
  EXPECT_TRUE(buf == block);
  EXPECT_EQ(blob->ReadBlock(0, buf.data()).code(), Code::kNotFound);

  EXPECT_EQ(Record(blob->key())->cached_bytes, kBlockSize);
  EXPECT_EQ(Used(), kBlockSize);
  EXPECT_GE(AllocatedBlocks(cache_->BlobPath(blob->key())) * 512, static_cast<int64_t>(kBlockSize));
}

TEST_F(CacheTest, LastShortBlockIsWrittenAndRead) {
  const std::string data = Bytes(kBlockSize + 777, 2);
  auto blob = Open(data);
  ASSERT_TRUE(blob);
  ASSERT_EQ(blob->BlockLength(1), 777u);
  ASSERT_TRUE(PutBlock(*blob, 1, data).ok());

  std::string buf(777, '\0');
  ASSERT_TRUE(blob->ReadBlock(1, buf.data()).ok());
  EXPECT_EQ(buf, data.substr(kBlockSize));
  EXPECT_EQ(Record(blob->key())->cached_bytes, 777u);
  EXPECT_EQ(Used(), 777u);
}

TEST_F(CacheTest, WriterRejectsTooManyOrTooFewBytes) {
  const std::string data = Bytes(1000, 3);
  auto blob = Open(data);
  ASSERT_TRUE(blob);
  {
    auto writer = blob->WriteBlock(0);
    ASSERT_TRUE(writer.ok());
    EXPECT_EQ(writer->Append(data + "x").code(), Code::kDataLoss);
  }
  {
    auto writer = blob->WriteBlock(0);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->Append(std::string_view(data).substr(0, 999)).ok());
    EXPECT_EQ(writer->Commit().code(), Code::kDataLoss) << "a short block is not recorded";
  }
  EXPECT_FALSE(blob->Block(0)->present);
  EXPECT_EQ(Used(), 0u);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
}

TEST_F(CacheTest, CommittingAPresentBlockAgainCountsItOnce) {
  const std::string data = Bytes(5000, 4);
  auto blob = Open(data);
  ASSERT_TRUE(blob);
  ASSERT_TRUE(PutBlock(*blob, 0, data).ok());
  ASSERT_TRUE(PutBlock(*blob, 0, data).ok());
  EXPECT_EQ(Used(), 5000u);
  EXPECT_EQ(Record(blob->key())->cached_bytes, 5000u);
}

TEST_F(CacheTest, ReadUncheckedReadsRawBytesAndStopsAtTheEnd) {
  const std::string data = Bytes(kBlockSize + 100, 5);
  auto blob = Store(data);
  ASSERT_TRUE(blob);
  std::string buf(300, '\0');
  auto n = blob->ReadUnchecked(kBlockSize - 50, buf.data(), 100);  // across the block boundary
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 100u);
  EXPECT_EQ(buf.substr(0, 100), data.substr(kBlockSize - 50, 100));

  n = blob->ReadUnchecked(kBlockSize + 50, buf.data(), 300);  // crosses the end
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 50u);
  EXPECT_EQ(buf.substr(0, 50), data.substr(kBlockSize + 50));

  n = blob->ReadUnchecked(data.size() + 10, buf.data(), 10);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);

  // No digest check: a damaged byte is returned as it is on disk.
  FlipByte(cache_->BlobPath(blob->key()), 10);
  n = blob->ReadUnchecked(10, buf.data(), 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(buf[0], static_cast<char>(~data[10]));
  EXPECT_TRUE(blob->Block(0)->present);
}

TEST_F(CacheTest, DamagedBlockIsDataLossAndDropped) {
  const std::string data = Bytes(2 * kBlockSize + 4096, 6);
  auto blob = Store(data);
  ASSERT_TRUE(blob);
  const std::string path = cache_->BlobPath(blob->key());
  ASSERT_EQ(Used(), data.size());
  const int64_t allocated = AllocatedBlocks(path);

  FlipByte(path, kBlockSize + 12345);

  std::string buf(kBlockSize, '\0');
  Status s = blob->ReadBlock(1, buf.data());
  EXPECT_EQ(s.code(), Code::kDataLoss) << s.ToString();
  auto info = blob->Block(1);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->present) << "a damaged block is dropped";
  EXPECT_TRUE(info->digest_known) << "its digest stays to check the next download";
  EXPECT_EQ(info->digest, DigestBlock(std::string_view(data).substr(kBlockSize, kBlockSize)));
  EXPECT_EQ(blob->ReadBlock(1, buf.data()).code(), Code::kNotFound);

  EXPECT_EQ(Used(), data.size() - kBlockSize);
  EXPECT_EQ(Record(blob->key())->cached_bytes, data.size() - kBlockSize);
  EXPECT_LT(AllocatedBlocks(path), allocated) << "the dropped block's space is freed";

  // The other blocks are untouched and the block can be stored again.
  ASSERT_TRUE(blob->ReadBlock(0, buf.data()).ok());
  ASSERT_TRUE(blob->ReadBlock(2, buf.data()).ok());
  ASSERT_TRUE(PutBlock(*blob, 1, data).ok());
  ASSERT_TRUE(blob->ReadBlock(1, buf.data()).ok());
  EXPECT_TRUE(buf == std::string_view(data).substr(kBlockSize, kBlockSize));
  EXPECT_EQ(Used(), data.size());
}

TEST_F(CacheTest, TruncatedFileMakesTheLostBlocksDataLoss) {
  const std::string data = Bytes(kBlockSize + 5000, 8);
  auto blob = Store(data);
  ASSERT_TRUE(blob);
  ASSERT_EQ(::truncate(cache_->BlobPath(blob->key()).c_str(), kBlockSize + 100), 0);
  std::string buf(kBlockSize, '\0');
  EXPECT_TRUE(blob->ReadBlock(0, buf.data()).ok());
  EXPECT_EQ(blob->ReadBlock(1, buf.data()).code(), Code::kDataLoss);
  EXPECT_FALSE(blob->Block(1)->present);
  EXPECT_EQ(Used(), kBlockSize);
}

TEST_F(CacheTest, CommitWithADifferentDigestThanRecordedBeforeIsDataLoss) {
  const std::string data = Bytes(kBlockSize + 10, 9);
  auto blob = Store(data);
  ASSERT_TRUE(blob);
  const std::string path = cache_->BlobPath(blob->key());
  FlipByte(path, 3);
  std::string buf(kBlockSize, '\0');
  ASSERT_EQ(blob->ReadBlock(0, buf.data()).code(), Code::kDataLoss);
  const int64_t allocated = AllocatedBlocks(path);

  // The origin now serves other bytes for block 0.
  std::string changed = data;
  changed[100] ^= 0x55;
  auto writer = blob->WriteBlock(0);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->Append(std::string_view(changed).substr(0, kBlockSize)).ok());
  EXPECT_GT(AllocatedBlocks(path), allocated);
  Status s = writer->Commit();
  EXPECT_EQ(s.code(), Code::kDataLoss) << s.ToString();

  EXPECT_FALSE(blob->Block(0)->present);
  EXPECT_EQ(blob->Block(0)->digest, DigestBlock(std::string_view(data).substr(0, kBlockSize)));
  EXPECT_EQ(Used(), 10u);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
  EXPECT_EQ(AllocatedBlocks(path), allocated) << "the rejected bytes are freed";
  // The original bytes are still accepted.
  ASSERT_TRUE(PutBlock(*blob, 0, data).ok());
}

TEST_F(CacheTest, RecordDigestThenCheckBlock) {
  const std::string data = Bytes(3000, 10);
  std::string other = data;
  other[0] ^= 1;
  auto blob = Open(data);
  ASSERT_TRUE(blob);

  EXPECT_TRUE(blob->CheckBlock(0, other).ok()) << "no digest known: anything passes";

  ASSERT_TRUE(blob->RecordDigest(0, data).ok());
  auto info = blob->Block(0);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->digest_known);
  EXPECT_FALSE(info->present) << "recording a digest stores no bytes";
  EXPECT_EQ(info->digest, DigestBlock(data));
  EXPECT_EQ(Used(), 0u);
  EXPECT_EQ(Record(blob->key())->cached_bytes, 0u);

  EXPECT_TRUE(blob->CheckBlock(0, data).ok());
  EXPECT_EQ(blob->CheckBlock(0, other).code(), Code::kDataLoss);

  // A later download into the cache must match the recorded digest.
  EXPECT_EQ(PutBlock(*blob, 0, other).code(), Code::kDataLoss);
  EXPECT_TRUE(PutBlock(*blob, 0, data).ok());
  EXPECT_TRUE(blob->Block(0)->present);
  EXPECT_EQ(Used(), 3000u);
}

TEST_F(CacheTest, MarkVerifiedSetsStateAndDigest) {
  const std::string key = BlobKeyForUrl("http://hub/x");
  const std::string data = Bytes(100, 11);
  auto blob = cache_->OpenBlob(key, BlobSpec{100, std::nullopt, "http://hub/x"});
  ASSERT_TRUE(blob.ok());
  ASSERT_TRUE(PutBlock(**blob, 0, data).ok());
  ASSERT_TRUE((*blob)->MarkVerified(Sha256::Of(data)).ok());
  auto record = Record(key);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, BlobState::kVerified);
  EXPECT_EQ(record->sha256, Sha256::Of(data)) << "pinned on first verification";
  EXPECT_FALSE(record->published);
  EXPECT_EQ(record->cached_bytes, 100u);
}

TEST_F(CacheTest, MarkPoisonedDropsBlocksAndSurvivesReopen) {
  const std::string data = Bytes(kBlockSize + 300, 12);
  const std::string key = Key(data);
  {
    auto blob = Store(data);
    ASSERT_TRUE(blob);
    ASSERT_EQ(Used(), data.size());
    ASSERT_TRUE(blob->MarkPoisoned("sha256 mismatch").ok());
    auto record = Record(key);
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->state, BlobState::kPoisoned);
    EXPECT_EQ(record->note, "sha256 mismatch");
    EXPECT_EQ(record->cached_bytes, 0u);
    EXPECT_FALSE(blob->Block(0)->present);
    EXPECT_FALSE(blob->Block(1)->present);
    EXPECT_EQ(Used(), 0u);
    // Holes are whole pages: the page holding the short last block's 300 bytes may stay.
    EXPECT_LE(AllocatedBlocks(cache_->BlobPath(key)) * 512, 4096);
  }
  Reopen();
  auto blob = Open(data);
  ASSERT_TRUE(blob);
  auto record = Record(key);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, BlobState::kPoisoned) << "a poisoned blob stays poisoned";
  EXPECT_EQ(record->note, "sha256 mismatch");
}

TEST_F(CacheTest, TouchUpdatesLastAccess) {
  const std::string data = "touch me";
  auto blob = Open(data);
  ASSERT_TRUE(blob);
  blob.reset();
  cache_.reset();
  SetLastAccess(dir_ + "/index", Key(data), 1000);
  Reopen();
  EXPECT_EQ(Record(Key(data))->last_access, 1000);
  // OpenBlob counts as an access, and so does Touch.
  blob = Open(data);
  ASSERT_TRUE(blob);
  EXPECT_GT(Record(Key(data))->last_access, 1000);
  blob.reset();
  cache_.reset();
  SetLastAccess(dir_ + "/index", Key(data), 1000);
  Reopen();
  auto again = cache_->OpenBlob(Key(data), SpecFor(data));
  ASSERT_TRUE(again.ok());
  const int64_t opened = Record(Key(data))->last_access;
  ASSERT_TRUE((*again)->Touch().ok());
  EXPECT_GE(Record(Key(data))->last_access, opened);
  EXPECT_GT(Record(Key(data))->last_access, 1000);
}

TEST_F(CacheTest, SetPinnedPersistsAndFailsForUnknownBlob) {
  const std::string data = "pin me";
  auto blob = Open(data);
  ASSERT_TRUE(blob);
  ASSERT_TRUE(cache_->SetPinned(Key(data), true).ok());
  EXPECT_TRUE(Record(Key(data))->pinned);
  ASSERT_TRUE(cache_->SetPinned(Key(data), false).ok());
  EXPECT_FALSE(Record(Key(data))->pinned);
  EXPECT_EQ(cache_->SetPinned(Key("never opened"), true).code(), Code::kNotFound);
}

// ---- starting over, removal, persistence --------------------------------------------------------

TEST_F(CacheTest, ReopeningKeepsRecordsBlocksUsageAndDocs) {
  const std::string data = Bytes(kBlockSize + 2000, 13);
  const std::string key = Key(data);
  {
    auto blob = Store(data);
    ASSERT_TRUE(blob);
    ASSERT_TRUE(blob->MarkVerified(Sha256::Of(data)).ok());
    ASSERT_TRUE(cache_->SetPinned(key, true).ok());
  }
  DocRecord doc{"{\"models\": []}", 42, "\"etag-1\"", "Tue, 01 Jan 2030 00:00:00 GMT", "<http://hub/p2>; rel=\"next\""};
  ASSERT_TRUE(cache_->PutDoc("http://hub/index.json", doc).ok());

  Reopen();

  auto record = Record(key);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, BlobState::kVerified);
  EXPECT_TRUE(record->pinned);
  EXPECT_EQ(record->cached_bytes, data.size());
  EXPECT_EQ(Used(), data.size());
  auto blob = Open(data);
  ASSERT_TRUE(blob);
  std::string buf(kBlockSize, '\0');
  ASSERT_TRUE(blob->ReadBlock(0, buf.data()).ok());
  EXPECT_TRUE(buf == std::string_view(data).substr(0, kBlockSize));
  ASSERT_TRUE(blob->ReadBlock(1, buf.data()).ok());
  EXPECT_EQ(buf.substr(0, 2000), data.substr(kBlockSize));
  EXPECT_EQ(Record(key)->state, BlobState::kVerified) << "opening again keeps the state";

  auto got = cache_->GetDoc("http://hub/index.json");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->body, doc.body);
  EXPECT_EQ((*got)->fetched_at, 42);
  EXPECT_EQ((*got)->etag, doc.etag);
  EXPECT_EQ((*got)->last_modified, doc.last_modified);
  EXPECT_EQ((*got)->link, doc.link);
  // Records written before the link field existed still read (the field is optional, last).
  ASSERT_TRUE(cache_->PutDoc("http://hub/old", {"old", 7, "", "", ""}).ok());
  EXPECT_EQ(cache_->GetDoc("http://hub/old").value()->link, "");
}

TEST_F(CacheTest, RecordWhoseFileVanishedStartsOverEmpty) {
  const std::string data = Bytes(kBlockSize + 10, 14);
  const std::string key = Key(data);
  {
    auto blob = Store(data);
    ASSERT_TRUE(blob);
    ASSERT_TRUE(blob->MarkVerified(Sha256::Of(data)).ok());
    ASSERT_TRUE(cache_->SetPinned(key, true).ok());
  }
  ASSERT_EQ(::unlink(cache_->BlobPath(key).c_str()), 0);

  auto blob = Open(data);
  ASSERT_TRUE(blob);
  auto record = Record(key);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, BlobState::kPartial);
  EXPECT_EQ(record->cached_bytes, 0u);
  EXPECT_TRUE(record->pinned) << "the user's pin survives starting over";
  EXPECT_FALSE(blob->Block(0)->present);
  EXPECT_FALSE(blob->Block(0)->digest_known);
  EXPECT_EQ(Used(), 0u);
  EXPECT_EQ(FileSize(cache_->BlobPath(key)), static_cast<int64_t>(data.size()));
}

TEST_F(CacheTest, RecordWithAnotherSizeStartsOverEmpty) {
  const std::string key = BlobKeyForUrl("http://hub/changing");
  {
    auto blob = cache_->OpenBlob(key, BlobSpec{3000, std::nullopt, "http://hub/changing"});
    ASSERT_TRUE(blob.ok());
    ASSERT_TRUE(PutBlock(**blob, 0, Bytes(3000, 1)).ok());
    ASSERT_EQ(Used(), 3000u);
  }
  auto blob = cache_->OpenBlob(key, BlobSpec{5000, std::nullopt, "http://hub/changing"});
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ((*blob)->size(), 5000u);
  EXPECT_FALSE((*blob)->Block(0)->present);
  EXPECT_FALSE((*blob)->Block(0)->digest_known);
  EXPECT_EQ(Record(key)->size, 5000u);
  EXPECT_EQ(Record(key)->cached_bytes, 0u);
  EXPECT_EQ(Used(), 0u);
  EXPECT_EQ(FileSize(cache_->BlobPath(key)), 5000);
}

TEST_F(CacheTest, RemoveBlobDropsRecordBlocksFileAndUsage) {
  const std::string data = Bytes(kBlockSize + 1, 15);
  const std::string keep = Bytes(500, 16);
  auto kept = Store(keep);
  {
    auto blob = Store(data);
    ASSERT_TRUE(blob);
  }
  ASSERT_EQ(Used(), data.size() + keep.size());
  ASSERT_TRUE(cache_->RemoveBlob(Key(data)).ok());
  EXPECT_FALSE(Record(Key(data)).has_value());
  EXPECT_FALSE(Exists(cache_->BlobPath(Key(data))));
  EXPECT_EQ(Used(), keep.size());
  std::string buf(500, '\0');
  ASSERT_TRUE(kept->ReadBlock(0, buf.data()).ok());
  EXPECT_EQ(buf, keep);
  EXPECT_TRUE(cache_->RemoveBlob(BlobKeyForUrl("http://never/cached")).ok());

  // Opened again: a fresh, empty blob.
  auto again = Open(data);
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->Block(0)->present);
  EXPECT_FALSE(again->Block(0)->digest_known);
}

TEST_F(CacheTest, RemovingAnOpenBlobMakesItsBlocksAbsent) {
  const std::string data = Bytes(4000, 17);
  auto blob = Store(data);
  ASSERT_TRUE(blob);
  ASSERT_TRUE(cache_->RemoveBlob(Key(data)).ok());
  std::string buf(4000, '\0');
  EXPECT_FALSE(blob->Block(0)->present);
  EXPECT_EQ(blob->ReadBlock(0, buf.data()).code(), Code::kNotFound);
  EXPECT_EQ(blob->Record().status().code(), Code::kNotFound);
  EXPECT_EQ(Used(), 0u);
  // A late commit into the removed blob is refused and not counted.
  EXPECT_FALSE(PutBlock(*blob, 0, data).ok());
  EXPECT_EQ(Used(), 0u);
}

TEST_F(CacheTest, FormatVersionMismatchWipesEverything) {
  const std::string data = Bytes(3000, 18);
  const std::string path = cache_->BlobPath(Key(data));
  {
    auto blob = Store(data);
    ASSERT_TRUE(blob);
  }
  ASSERT_TRUE(cache_->PutDoc("http://hub/doc", {"doc", 1, "", "", ""}).ok());
  ASSERT_TRUE(Exists(path));
  cache_.reset();
  WriteFormatVersion(dir_ + "/index", LittleEndian32(kFormatVersion + 1));

  Reopen();

  EXPECT_FALSE(Record(Key(data)).has_value());
  EXPECT_FALSE(Exists(path));
  EXPECT_EQ(Used(), 0u);
  auto doc = cache_->GetDoc("http://hub/doc");
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(doc->has_value());
  EXPECT_TRUE(IsDir(dir_ + "/blobs"));
  // The rebuilt index works and carries the current version.
  auto blob = Store(data);
  ASSERT_TRUE(blob);
  EXPECT_EQ(Used(), 3000u);
  blob.reset();
  cache_.reset();
  EXPECT_EQ(ReadFormatVersion(dir_ + "/index"), LittleEndian32(kFormatVersion));
}

TEST_F(CacheTest, OldFormatOneVersionWipes) {
  const std::string data = Bytes(100, 19);
  {
    auto blob = Store(data);
    ASSERT_TRUE(blob);
  }
  cache_.reset();
  WriteFormatVersion(dir_ + "/index", LittleEndian32(1));
  Reopen();
  EXPECT_FALSE(Record(Key(data)).has_value());
  EXPECT_EQ(Used(), 0u);
}

TEST_F(CacheTest, MalformedFormatVersionWipes) {
  const std::string data = Bytes(100, 20);
  {
    auto blob = Store(data);
    ASSERT_TRUE(blob);
  }
  cache_.reset();
  WriteFormatVersion(dir_ + "/index", "1");  // not 4 bytes
  Reopen();
  EXPECT_FALSE(Record(Key(data)).has_value());
}

TEST_F(CacheTest, DamagedIndexIsRebuilt) {
  const std::string data = Bytes(100, 21);
  {
    auto blob = Store(data);
    ASSERT_TRUE(blob);
  }
  cache_.reset();
  {
    std::ofstream out(dir_ + "/index/data.mdb", std::ios::binary | std::ios::trunc);
    out << std::string(8192, 'x');
  }
  auto opened = Cache::Open(dir_);
  ASSERT_TRUE(opened.ok()) << opened.error().ToString();
  cache_ = std::move(opened).value();
  EXPECT_FALSE(Record(Key(data)).has_value());
  EXPECT_FALSE(Exists(cache_->BlobPath(Key(data))));
  auto blob = Store(data);
  ASSERT_TRUE(blob);
  EXPECT_EQ(Used(), 100u);
}

// ---- documents ----------------------------------------------------------------------------------

TEST_F(CacheTest, DocsPutGetOverwrite) {
  auto missing = cache_->GetDoc("http://hub/a");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(cache_->PutDoc("http://hub/a", {"body one", 10, "\"e1\"", "", ""}).ok());
  ASSERT_TRUE(cache_->PutDoc("http://hub/b", {"body b", 11, "", "lm", ""}).ok());
  ASSERT_TRUE(cache_->PutDoc("http://hub/a", {"body two", 20, "", "lm2", ""}).ok());

  auto a = cache_->GetDoc("http://hub/a");
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->body, "body two");
  EXPECT_EQ((*a)->fetched_at, 20);
  EXPECT_EQ((*a)->etag, "");
  EXPECT_EQ((*a)->last_modified, "lm2");
  auto b = cache_->GetDoc("http://hub/b");
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->body, "body b");
}

TEST_F(CacheTest, DocsAndBlobsDoNotShareKeys) {
  auto blob = Store("blob");
  ASSERT_TRUE(blob);
  auto doc = cache_->GetDoc(Key("blob"));
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(doc->has_value());
  EXPECT_EQ(Used(), 4u) << "documents do not count against the blob limit";
}

// ---- size limit and eviction --------------------------------------------------------------------

// Three 1000-byte blobs A, B, C (closed) with chosen last-access times, in a cache limited to 3000.
class EvictionTest : public CacheTest {
 protected:
  void SetUp() override {
    CacheTest::SetUp();
    for (int i = 0; i < 3; ++i) data_[i] = Bytes(1000, 100 + i);
    for (const auto& d : data_) ASSERT_TRUE(Store(d));
    ASSERT_EQ(Used(), 3000u);
  }

  // Sets the last-access times (ms) of A, B, C, with the cache closed meanwhile, and reopens it.
  void SetAges(int64_t a, int64_t b, int64_t c, CacheOptions options = {.size_limit = 3000}) {
    cache_.reset();
    const int64_t t[3] = {a, b, c};
    for (int i = 0; i < 3; ++i) SetLastAccess(dir_ + "/index", Key(data_[i]), t[i]);
    Reopen(options);
  }

  bool Cached(int i) { return Record(Key(data_[i])).has_value(); }

  // Stores a new 1000-byte blob (its block needs room); returns how that went.
  Status StoreNew(uint32_t seed, bool background = false) {
    const std::string d = Bytes(1000, seed);
    auto blob = Open(d);
    if (!blob) return Status::Internal("open failed");
    return PutBlock(*blob, 0, d, background);
  }

  static int64_t Future() { return NowMillis() + 1'000'000'000; }

  // Rewrites a last-access time while this process has the cache open: LMDB allows that only
  // from another process.
  void SetLastAccessElsewhere(const std::string& key, int64_t when) {
    const std::string index = dir_ + "/index";
    ASSERT_EQ(RunInChild([&] {
                SetLastAccess(index, key, when);
                return ::testing::Test::HasFailure() ? 1 : 0;
              }),
              0);
  }

  std::string data_[3];
};

TEST_F(EvictionTest, ABlockBeyondTheLimitEvictsTheLeastRecentlyUsed) {
  SetAges(100, 300, 200);  // A oldest, then C, then B
  ASSERT_TRUE(StoreNew(1).ok());
  EXPECT_FALSE(Cached(0));
  EXPECT_FALSE(Exists(cache_->BlobPath(Key(data_[0])))) << "an evicted blob's file is deleted";
  EXPECT_TRUE(Cached(1));
  EXPECT_TRUE(Cached(2));
  EXPECT_EQ(Used(), 3000u);

  ASSERT_TRUE(StoreNew(2).ok());
  EXPECT_FALSE(Cached(2)) << "C was used before B";
  EXPECT_TRUE(Cached(1));
  EXPECT_EQ(Used(), 3000u);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
}

TEST_F(EvictionTest, ABlockLargerThanOneBlobEvictsSeveral) {
  SetAges(100, 200, 300);
  const std::string d = Bytes(1500, 1);
  auto blob = Open(d);
  ASSERT_TRUE(blob);
  ASSERT_TRUE(PutBlock(*blob, 0, d).ok());
  EXPECT_FALSE(Cached(0));
  EXPECT_FALSE(Cached(1));
  EXPECT_TRUE(Cached(2));
  EXPECT_EQ(Used(), 2500u);
}

TEST_F(EvictionTest, PinnedBlobsSurvive) {
  SetAges(100, 200, 300);
  ASSERT_TRUE(cache_->SetPinned(Key(data_[0]), true).ok());
  ASSERT_TRUE(StoreNew(1).ok());
  EXPECT_TRUE(Cached(0)) << "pinned";
  EXPECT_FALSE(Cached(1));
  EXPECT_TRUE(Cached(2));
}

TEST_F(EvictionTest, BlobsInUseInThisProcessSurvive) {
  SetAges(100, 200, 300);
  auto a = Open(data_[0]);
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->AcquireUse().ok());
  ASSERT_TRUE(a->AcquireUse().ok());  // uses are counted
  SetLastAccessElsewhere(Key(data_[0]), 50);  // the oldest, yet in use
  ASSERT_TRUE(StoreNew(1).ok());
  EXPECT_TRUE(Cached(0)) << "blobs in use are never evicted";
  EXPECT_FALSE(Cached(1));
  EXPECT_TRUE(Cached(2));
  std::string buf(1000, '\0');
  ASSERT_TRUE(a->ReadBlock(0, buf.data()).ok());
  EXPECT_EQ(buf, data_[0]);

  a->ReleaseUse();
  ASSERT_TRUE(StoreNew(2).ok());
  EXPECT_TRUE(Cached(0)) << "one use is left";
  EXPECT_FALSE(Cached(2));

  a->ReleaseUse();  // the Blob object stays, but nobody reads it: it can go
  ASSERT_TRUE(StoreNew(3).ok());
  EXPECT_FALSE(Cached(0));
}

TEST_F(EvictionTest, AnOpenBlobWithoutUsersIsEvictable) {
  // Background work (fetching, verifying) holds a Blob but does not protect it.
  SetAges(100, 200, 300);
  auto a = Open(data_[0]);
  ASSERT_TRUE(a);
  SetLastAccessElsewhere(Key(data_[0]), 50);
  ASSERT_TRUE(StoreNew(1).ok());
  EXPECT_FALSE(Cached(0));
  EXPECT_TRUE(Cached(1));
  // Its holder sees the blocks as absent.
  std::string buf(1000, '\0');
  EXPECT_FALSE(a->Block(0)->present);
  EXPECT_EQ(a->ReadBlock(0, buf.data()).code(), Code::kNotFound);
}

TEST_F(EvictionTest, BlobsInUseInAnotherProcessSurvive) {
  SetAges(100, Future(), Future() + 1);
  const std::string dir = dir_;
  const std::string a = data_[0];
  Pipe to_parent, to_child;
  pid_t child = 0;
  ASSERT_EQ(RunInChild(
                [&] {
                  auto other = Cache::Open(dir);
                  if (!other.ok()) return 1;
                  auto blob = (*other)->OpenBlob(Key(a), SpecFor(a));
                  if (!blob.ok() || !(*blob)->AcquireUse().ok()) return 2;
                  to_parent.Send('o');                      // A is in use here
                  if (to_child.Receive() != 'x') return 3;  // until told
                  return 0;
                },
                &child),
            0);
  ASSERT_EQ(to_parent.Receive(), 'o');

  ASSERT_TRUE(StoreNew(1).ok());
  EXPECT_TRUE(Cached(0)) << "in use in the child";
  EXPECT_FALSE(Cached(1));

  ASSERT_TRUE(to_child.Send('x'));
  ASSERT_EQ(WaitChild(child), 0);

  SetLastAccessElsewhere(Key(data_[0]), 50);
  ASSERT_TRUE(StoreNew(2).ok());
  EXPECT_FALSE(Cached(0)) << "released with the child's exit";
  EXPECT_TRUE(Cached(2));
}

TEST_F(EvictionTest, BlobWhoseFileVanishedIsEvictedByDroppingItsRecords) {
  SetAges(100, 200, 300);
  ASSERT_EQ(::unlink(cache_->BlobPath(Key(data_[0])).c_str()), 0);
  ASSERT_TRUE(cache_->Reserve(1000).ok());
  EXPECT_EQ(Used(), 2000u);
  EXPECT_FALSE(Cached(0));
  EXPECT_TRUE(Cached(1));
  EXPECT_TRUE(Cached(2));
  cache_->Unreserve(1000);
}

TEST_F(EvictionTest, ReserveEvictsUntilTheBytesFitAndCountsReservations) {
  SetAges(100, 200, 300);
  ASSERT_TRUE(cache_->Reserve(0).ok());
  EXPECT_EQ(Used(), 3000u);
  ASSERT_TRUE(cache_->Reserve(1500).ok());
  EXPECT_EQ(Used(), 1000u);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 1500u);
  EXPECT_TRUE(Cached(2));
  // Reserved bytes count against the limit: 1000 used + 1500 reserved + 600 > 3000.
  ASSERT_TRUE(cache_->Reserve(600).ok());
  EXPECT_FALSE(Cached(2));
  EXPECT_EQ(cache_->Usage().reserved_bytes, 2100u);
  EXPECT_EQ(cache_->Reserve(1000).code(), Code::kResourceExhausted);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 2100u) << "a failed reservation takes nothing";
  cache_->Unreserve(2100);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
  EXPECT_EQ(cache_->Reserve(3001).code(), Code::kResourceExhausted);
}

TEST_F(EvictionTest, AWriteNeverEvictsItsOwnBlob) {
  SetAges(100, 200, 300, {.size_limit = kBlockSize + 2000});
  const std::string data = Bytes(2 * kBlockSize, 1);
  auto blob = Open(data);
  ASSERT_TRUE(blob);
  ASSERT_TRUE(PutBlock(*blob, 0, data).ok());
  EXPECT_FALSE(Cached(0));
  EXPECT_TRUE(Cached(1) && Cached(2));
  EXPECT_EQ(PutBlock(*blob, 1, data).code(), Code::kResourceExhausted);
  EXPECT_TRUE(blob->Block(0)->present) << "the blob being written is not evicted for itself";
  EXPECT_TRUE(Record(blob->key()).has_value());
  EXPECT_GE(Used(), kBlockSize);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
}

TEST_F(EvictionTest, BackgroundWritesEvictOnlyLessRecentlyUsedBlobs) {
  SetAges(100, Future(), Future() + 1);
  ASSERT_TRUE(StoreNew(1, /*background=*/true).ok());
  EXPECT_FALSE(Cached(0)) << "A was used before the new blob";
  ASSERT_TRUE(cache_->SetPinned(Key(Bytes(1000, 1)), true).ok());
  Status s = StoreNew(2, /*background=*/true);
  EXPECT_EQ(s.code(), Code::kResourceExhausted) << s.ToString();
  EXPECT_TRUE(Cached(1) && Cached(2)) << "used more recently than the blob being completed";
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
  ASSERT_TRUE(StoreNew(3).ok()) << "a reader's block may evict them";
  EXPECT_FALSE(Cached(1));
}

TEST_F(EvictionTest, WhenNothingCanBeEvictedWriteBlockFailsAndWritesNothing) {
  SetAges(100, Future(), Future() + 1, {.size_limit = 3000 + kMiB / 2});
  ASSERT_TRUE(cache_->SetPinned(Key(data_[0]), true).ok());
  auto b = Open(data_[1]);
  auto c = Open(data_[2]);
  ASSERT_TRUE(b && c);
  ASSERT_TRUE(b->AcquireUse().ok());
  ASSERT_TRUE(c->AcquireUse().ok());

  const std::string d = Bytes(kMiB, 1);
  auto blob = Open(d);
  ASSERT_TRUE(blob);
  const std::string path = cache_->BlobPath(blob->key());
  const auto start = std::chrono::steady_clock::now();
  auto writer = blob->WriteBlock(0);
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.error().code(), Code::kResourceExhausted) << writer.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2))
      << "a cache full of open blobs gives up quickly";
  EXPECT_EQ(AllocatedBlocks(path), 0) << "no byte reaches the disk beyond the limit";
  EXPECT_FALSE(blob->Block(0)->present);
  EXPECT_EQ(Record(blob->key())->cached_bytes, 0u);
  EXPECT_EQ(Used(), 3000u);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
  EXPECT_TRUE(Cached(0) && Cached(1) && Cached(2));

  // A block that fits still goes in.
  const std::string small = Bytes(kMiB / 2, 2);
  auto small_blob = Open(small);
  ASSERT_TRUE(small_blob);
  EXPECT_TRUE(PutBlock(*small_blob, 0, small).ok());
  EXPECT_EQ(Used(), 3000u + kMiB / 2);
}

TEST_F(CacheTest, AnAbandonedWriterFreesItsBytesAndReservation) {
  Reopen({.size_limit = kMiB + 100});
  const std::string d = Bytes(kMiB, 1);
  auto blob = Open(d);
  ASSERT_TRUE(blob);
  const std::string path = cache_->BlobPath(blob->key());
  {
    auto writer = blob->WriteBlock(0);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->Append(d).ok());
    EXPECT_GE(AllocatedBlocks(path) * 512, static_cast<int64_t>(kMiB));
    EXPECT_EQ(cache_->Usage().reserved_bytes, kMiB);
    // A second block of this size does not fit next to the reservation.
    const std::string other = Bytes(kMiB, 2);
    auto other_blob = Open(other);
    ASSERT_TRUE(other_blob);
    EXPECT_EQ(other_blob->WriteBlock(0).status().code(), Code::kResourceExhausted);
  }  // dropped without Commit (a failed download)
  EXPECT_EQ(AllocatedBlocks(path), 0);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
  EXPECT_EQ(Used(), 0u);
  EXPECT_FALSE(blob->Block(0)->present);
  EXPECT_TRUE(PutBlock(*blob, 0, d).ok()) << "the room is available again";
}

TEST_F(CacheTest, MovedWriterKeepsOneReservation) {
  const std::string d = Bytes(5000, 1);
  auto blob = Open(d);
  ASSERT_TRUE(blob);
  auto writer = blob->WriteBlock(0);
  ASSERT_TRUE(writer.ok());
  Blob::Writer moved(std::move(writer).value());
  ASSERT_TRUE(moved.Append(d).ok());
  EXPECT_EQ(cache_->Usage().reserved_bytes, 5000u);
  ASSERT_TRUE(moved.Commit().ok());
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
  EXPECT_EQ(Used(), 5000u);
}

TEST_F(CacheTest, ReservationsOfADeadProcessAreClearedByTheNextLoneOpener) {
  const std::string dir = dir_;
  ASSERT_EQ(RunInChild([&] {
              auto other = Cache::Open(dir);
              if (!other.ok()) return 1;
              if (!(*other)->Reserve(4000).ok()) return 2;
              return 0;  // dies holding it (no Unreserve, no destructor)
            }),
            0);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 4000u) << "this process still had the cache open";
  Reopen();
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u) << "the only user now: stale reservations go";
}

TEST_F(CacheTest, UsageFollowsCommitsDropsPoisoningAndRemoval) {
  const std::string a = Bytes(2 * kBlockSize + 1234, 30);
  const std::string b = Bytes(5000, 31);
  auto blob_a = Open(a);
  auto blob_b = Open(b);
  ASSERT_TRUE(blob_a && blob_b);
  ASSERT_TRUE(PutBlock(*blob_a, 2, a).ok());
  EXPECT_EQ(Used(), 1234u);
  ASSERT_TRUE(PutBlock(*blob_a, 0, a).ok());
  EXPECT_EQ(Used(), kBlockSize + 1234);
  ASSERT_TRUE(PutBlock(*blob_b, 0, b).ok());
  EXPECT_EQ(Used(), kBlockSize + 1234 + 5000);
  EXPECT_EQ(Record(Key(a))->cached_bytes, kBlockSize + 1234);

  FlipByte(cache_->BlobPath(Key(a)), 7);
  std::string buf(kBlockSize, '\0');
  ASSERT_EQ(blob_a->ReadBlock(0, buf.data()).code(), Code::kDataLoss);
  EXPECT_EQ(Used(), 1234u + 5000);

  ASSERT_TRUE(blob_b->MarkPoisoned("bad").ok());
  EXPECT_EQ(Used(), 1234u);

  ASSERT_TRUE(cache_->RemoveBlob(Key(a)).ok());
  EXPECT_EQ(Used(), 0u);
}

// ---- concurrency and other processes ------------------------------------------------------------

TEST_F(CacheTest, LockBlockExcludesAnotherOpenOfTheBlob) {
  const std::string data = Bytes(kBlockSize + 10, 40);
  auto first = Open(data);
  auto second = Open(data);  // its own file description, as in another engine or process
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->LockBlock(0).ok());
  ASSERT_TRUE(second->LockBlock(1).ok()) << "other blocks are independent";

  std::atomic<bool> locked{false};
  auto waiter = std::async(std::launch::async, [&] {
    Status s = second->LockBlock(0);
    locked = true;
    return s;
  });
  EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_FALSE(locked);
  first->UnlockBlock(0);
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(waiter.get().ok());
  second->UnlockBlock(0);
  second->UnlockBlock(1);
  ASSERT_TRUE(first->LockBlock(0).ok());
  first->UnlockBlock(0);
}

TEST_F(CacheTest, LockBlockExcludesAnotherProcessAndDiesWithIt) {
  const std::string data = Bytes(1000, 41);
  const std::string dir = dir_;
  auto blob = Open(data);
  ASSERT_TRUE(blob);
  ASSERT_TRUE(blob->LockBlock(0).ok());

  Pipe to_parent, to_child;
  pid_t child = 0;
  ASSERT_EQ(RunInChild(
                [&] {
                  auto other = Cache::Open(dir);
                  if (!other.ok()) return 1;
                  auto mine = (*other)->OpenBlob(Key(data), SpecFor(data));
                  if (!mine.ok()) return 2;
                  // The parent's lock is visible to a probe on the same byte.
                  int fd = ::open((*other)->BlobPath(Key(data)).c_str(), O_RDWR);
                  struct flock probe {};
                  probe.l_type = F_WRLCK;
                  probe.l_whence = SEEK_SET;
                  probe.l_start = 0;
                  probe.l_len = 1;
                  if (fd < 0 || ::fcntl(fd, F_OFD_GETLK, &probe) != 0 || probe.l_type == F_UNLCK) {
                    return 3;
                  }
                  ::close(fd);
                  std::atomic<bool> locked{false};
                  std::thread waiter([&] {
                    if ((*mine)->LockBlock(0).ok()) locked = true;
                  });
                  ::usleep(100 * 1000);
                  const bool early = locked;
                  to_parent.Send(early ? 'e' : 'w');  // still waiting
                  if (to_child.Receive() != 'u') {
                    waiter.detach();
                    return 4;
                  }
                  waiter.join();  // the parent released it
                  if (early || !locked) return 5;
                  to_parent.Send('l');  // now this process holds block 0
                  return to_child.Receive() == 'x' ? 0 : 6;  // and dies holding it
                },
                &child),
            0);
  EXPECT_EQ(to_parent.Receive(), 'w') << "the child must wait while the parent holds the lock";
  blob->UnlockBlock(0);
  ASSERT_TRUE(to_child.Send('u'));
  EXPECT_EQ(to_parent.Receive(), 'l');

  // The child holds it now: a second open here waits until the child dies.
  auto again = Open(data);
  ASSERT_TRUE(again);
  auto waiter = std::async(std::launch::async, [&] { return again->LockBlock(0); });
  EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  ASSERT_TRUE(to_child.Send('x'));
  EXPECT_EQ(WaitChild(child), 0);
  ASSERT_EQ(waiter.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(waiter.get().ok());
  again->UnlockBlock(0);
}

TEST_F(CacheTest, CachesInTwoProcessesSeeEachOthersBlocks) {
  const std::string dir = dir_;
  const std::string child_data = Bytes(kBlockSize + 99, 50);
  ASSERT_EQ(RunInChild([&] {
              auto other = Cache::Open(dir);
              if (!other.ok()) return 1;
              auto blob = (*other)->OpenBlob(Key(child_data), SpecFor(child_data));
              if (!blob.ok()) return 2;
              if (!PutBlock(**blob, 1, child_data).ok()) return 3;
              return (*other)->PutDoc("http://hub/doc", {"from the child", 5, "", "", ""}).ok() ? 0 : 4;
            }),
            0);
  auto blob = Open(child_data);
  ASSERT_TRUE(blob);
  EXPECT_FALSE(blob->Block(0)->present);
  ASSERT_TRUE(blob->Block(1)->present);
  std::string buf(99, '\0');
  ASSERT_TRUE(blob->ReadBlock(1, buf.data()).ok());
  EXPECT_EQ(buf, child_data.substr(kBlockSize));
  EXPECT_EQ(Used(), 99u);
  auto doc = cache_->GetDoc("http://hub/doc");
  ASSERT_TRUE(doc.ok() && doc->has_value());
  EXPECT_EQ((*doc)->body, "from the child");

  // This process stores block 0; a child sees the whole blob and removes it.
  ASSERT_TRUE(PutBlock(*blob, 0, child_data).ok());
  blob.reset();
  EXPECT_EQ(RunInChild([&] {
              auto other = Cache::Open(dir);
              if (!other.ok()) return 1;
              auto mine = (*other)->OpenBlob(Key(child_data), SpecFor(child_data));
              if (!mine.ok()) return 2;
              std::string whole(kBlockSize, '\0');
              if (!(*mine)->ReadBlock(0, whole.data()).ok()) return 3;
              if (whole != std::string_view(child_data).substr(0, kBlockSize)) return 4;
              if ((*other)->Usage().used_bytes != child_data.size()) return 5;
              return (*other)->RemoveBlob(Key(child_data)).ok() ? 0 : 6;
            }),
            0);
  EXPECT_FALSE(Record(Key(child_data)).has_value());
  EXPECT_EQ(Used(), 0u);
}

TEST_F(CacheTest, ConcurrentWritersKeepExactAccounting) {
  constexpr int kThreads = 4;
  constexpr int kBlobsPerThread = 6;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  std::atomic<uint64_t> expected{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kBlobsPerThread; ++i) {
        const std::string data = Bytes(1000 + 10 * i + t, 1000 + 100 * t + i);
        auto blob = cache_->OpenBlob(Key(data), SpecFor(data));
        if (!blob.ok() || !PutBlock(**blob, 0, data).ok()) {
          failures[t] = "store failed";
          return;
        }
        expected += data.size();
        std::string buf(data.size(), '\0');
        if (!(*blob)->ReadBlock(0, buf.data()).ok() || buf != data) {
          failures[t] = "read back failed";
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
  EXPECT_EQ(Used(), expected.load());
}

TEST_F(CacheTest, ConcurrentCommitsUnderALimitNeverOvershootIt) {
  Reopen({.size_limit = 10000});
  constexpr int kThreads = 4;
  std::vector<std::shared_ptr<Blob>> blobs;  // all in use: nothing can be evicted
  std::vector<std::string> datas;
  for (int t = 0; t < kThreads; ++t) {
    datas.push_back(Bytes(3000, 60 + t));
    blobs.push_back(Open(datas.back()));
    ASSERT_TRUE(blobs.back());
    ASSERT_TRUE(blobs.back()->AcquireUse().ok());
  }
  std::atomic<int> stored{0}, full{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Status s = PutBlock(*blobs[t], 0, datas[t]);
      if (s.ok()) stored++;
      if (s.code() == Code::kResourceExhausted) full++;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(stored.load(), 3);
  EXPECT_EQ(full.load(), 1);
  EXPECT_EQ(Used(), 9000u);
  EXPECT_EQ(cache_->Usage().reserved_bytes, 0u);
  for (auto& blob : blobs) blob->ReleaseUse();
}

}  // namespace
}  // namespace hubfs::cache
