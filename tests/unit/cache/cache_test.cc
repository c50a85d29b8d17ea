#include "hubfs/cache/cache.h"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "testing/temp_dir.h"

namespace hubfs::cache {
namespace {

namespace stdfs = std::filesystem;

bool IsDir(const std::string& path) { return stdfs::is_directory(path); }
bool Exists(const std::string& path) { return stdfs::exists(path); }

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : stdfs::directory_iterator(dir)) ++n;
  return n;
}

void WriteFile(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary);
  out << data;
}

// Stores `raw` as the index's format version value with the LMDB C API, bypassing Cache.
void WriteFormatVersion(const std::string& index_dir, std::string_view raw) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 8), 0);
  ASSERT_EQ(mdb_env_set_mapsize(env, size_t{1} << 32), 0);
  ASSERT_EQ(mdb_env_open(env, index_dir.c_str(), MDB_NOTLS, 0600), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi meta;
  ASSERT_EQ(mdb_dbi_open(txn, "meta", MDB_CREATE, &meta), 0);
  MDB_val key{14, const_cast<char*>("format_version")};
  MDB_val value{raw.size(), const_cast<char*>(raw.data())};
  ASSERT_EQ(mdb_put(txn, meta, &key, &value, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

// Reads the stored format version with the LMDB C API; "" when absent.
std::string ReadFormatVersion(const std::string& index_dir) {
  MDB_env* env = nullptr;
  EXPECT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_maxdbs(env, 8);
  mdb_env_set_mapsize(env, size_t{1} << 32);
  EXPECT_EQ(mdb_env_open(env, index_dir.c_str(), MDB_NOTLS | MDB_RDONLY, 0600), 0);
  MDB_txn* txn = nullptr;
  EXPECT_EQ(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn), 0);
  MDB_dbi meta;
  std::string out;
  if (mdb_dbi_open(txn, "meta", 0, &meta) == 0) {
    MDB_val key{14, const_cast<char*>("format_version")};
    MDB_val value{};
    if (mdb_get(txn, meta, &key, &value) == 0) {
      out.assign(static_cast<const char*>(value.mv_data), value.mv_size);
    }
  }
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return out;
}

std::string LittleEndian32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

void SetMtime(const std::string& path, time_t seconds_ago) {
  struct timeval times[2];
  ::gettimeofday(&times[0], nullptr);
  times[0].tv_sec -= seconds_ago;
  times[1] = times[0];
  ASSERT_EQ(::utimes(path.c_str(), times), 0) << path;
}

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    dir_ = tmp_.Sub("cache");
    Reopen();
  }

  void Reopen() {
    cache_.reset();
    auto opened = Cache::Open(dir_);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    cache_ = std::move(opened).value();
  }

  // Writes `data` as a blob keyed by its digest; returns the key.
  std::string Put(std::string_view data, Cache* cache = nullptr) {
    if (cache == nullptr) cache = cache_.get();
    auto writer = cache->NewBlob();
    EXPECT_TRUE(writer.ok()) << writer.error().ToString();
    if (!writer.ok()) return "";
    EXPECT_TRUE((*writer)->Append(data).ok());
    BlobRecord record = RecordFor(data);
    const std::string key = BlobKeyForDigest(record.sha256);
    Status s = cache->CommitBlob(std::move(writer).value(), key, record);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return key;
  }

  static BlobRecord RecordFor(std::string_view data) {
    BlobRecord r;
    r.size = data.size();
    r.sha256 = Sha256::Of(data);
    r.published = true;
    r.source_url = "http://hub/file";
    r.created = 1700000000;
    r.last_access = 1700000001;
    return r;
  }

  std::string ReadAll(Cache& cache, const std::string& key) {
    auto blob = cache.OpenBlob(key);
    EXPECT_TRUE(blob.ok()) << blob.error().ToString();
    if (!blob.ok()) return "";
    std::string out((*blob)->size(), '\0');
    auto n = (*blob)->ReadAt(0, out.data(), out.size());
    EXPECT_TRUE(n.ok());
    out.resize(n.ok() ? *n : 0);
    return out;
  }

  hubfs::test::TempDir tmp_;
  std::string dir_;
  std::unique_ptr<Cache> cache_;
};

TEST_F(CacheTest, OpenCreatesLayout) {
  EXPECT_TRUE(IsDir(dir_ + "/index"));
  EXPECT_TRUE(Exists(dir_ + "/index/data.mdb"));
  EXPECT_TRUE(IsDir(dir_ + "/blobs"));
  EXPECT_TRUE(IsDir(dir_ + "/tmp"));
  EXPECT_EQ(cache_->dir(), dir_);
  EXPECT_EQ(ReadFormatVersion(dir_ + "/index"), LittleEndian32(kFormatVersion));
}

TEST_F(CacheTest, OpenFailsWhenParentIsMissing) {
  auto opened = Cache::Open(tmp_.Sub("no/such/parent"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code(), Code::kIoError);
}

TEST_F(CacheTest, KeysAndBlobPath) {
  const Digest d = Sha256::Of("abc");
  const std::string hex = ToHex(d);
  EXPECT_EQ(BlobKeyForDigest(d), "sha256:" + hex);
  EXPECT_EQ(BlobKeyForUrl("http://h/x"), "url:" + ToHex(Sha256::Of("http://h/x")));
  EXPECT_NE(BlobKeyForUrl("http://h/x"), BlobKeyForUrl("http://h/y"));
  EXPECT_EQ(cache_->BlobPath(BlobKeyForDigest(d)),
            dir_ + "/blobs/" + hex.substr(0, 2) + "/sha256-" + hex);
}

TEST_F(CacheTest, UnknownBlobIsAbsentAndNotFound) {
  auto record = cache_->GetBlob("sha256:" + std::string(64, '0'));
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
  auto blob = cache_->OpenBlob("sha256:" + std::string(64, '0'));
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.error().code(), Code::kNotFound);
}

TEST_F(CacheTest, CommittedBlobHasRecordFileAndContent) {
  auto writer = cache_->NewBlob();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append("hello ").ok());
  ASSERT_TRUE((*writer)->Append("world").ok());
  EXPECT_EQ((*writer)->written(), 11u);
  const BlobRecord record = RecordFor("hello world");
  const std::string key = BlobKeyForDigest(record.sha256);
  ASSERT_TRUE(cache_->CommitBlob(std::move(writer).value(), key, record).ok());

  auto got = cache_->GetBlob(key);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->size, 11u);
  EXPECT_EQ((*got)->sha256, record.sha256);
  EXPECT_TRUE((*got)->published);
  EXPECT_EQ((*got)->source_url, "http://hub/file");
  EXPECT_EQ((*got)->created, 1700000000);
  EXPECT_EQ((*got)->last_access, 1700000001);

  EXPECT_TRUE(Exists(cache_->BlobPath(key)));
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 0u) << "the temporary file was renamed into blobs/";
  EXPECT_EQ(ReadAll(*cache_, key), "hello world");
}

TEST_F(CacheTest, ReadAtOffsetsEndAndPastEnd) {
  const std::string key = Put("0123456789");
  auto blob = cache_->OpenBlob(key);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ((*blob)->size(), 10u);
  char buf[16] = {};

  auto n = (*blob)->ReadAt(3, buf, 4);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "3456");

  n = (*blob)->ReadAt(7, buf, sizeof buf);  // crosses the end: short read
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "789");

  n = (*blob)->ReadAt(10, buf, sizeof buf);  // exactly at the end
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);

  n = (*blob)->ReadAt(1000, buf, sizeof buf);  // past the end
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);

  n = (*blob)->ReadAt(0, buf, 0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST_F(CacheTest, EmptyBlobCanBeStoredAndOpened) {
  const std::string key = Put("");
  auto blob = cache_->OpenBlob(key);
  ASSERT_TRUE(blob.ok()) << blob.error().ToString();
  EXPECT_EQ((*blob)->size(), 0u);
}

TEST_F(CacheTest, UncommittedWriterLeavesNothing) {
  {
    auto writer = cache_->NewBlob();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append("partial").ok());
    EXPECT_EQ(CountFiles(dir_ + "/tmp"), 1u);
  }
  EXPECT_EQ(CountFiles(dir_ + "/tmp"), 0u);
  EXPECT_EQ(CountFiles(dir_ + "/blobs"), 0u);
  auto record = cache_->GetBlob(BlobKeyForDigest(Sha256::Of("partial")));
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
}

TEST_F(CacheTest, CommitReplacesExistingBlob) {
  const std::string key = BlobKeyForUrl("http://hub/pinned");
  for (std::string_view data : {"first version", "second"}) {
    auto writer = cache_->NewBlob();
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(data).ok());
    BlobRecord record = RecordFor(data);
    record.published = false;
    ASSERT_TRUE(cache_->CommitBlob(std::move(writer).value(), key, record).ok());
  }
  EXPECT_EQ(ReadAll(*cache_, key), "second");
  auto record = cache_->GetBlob(key);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->size, 6u);
  EXPECT_FALSE((*record)->published);
}

TEST_F(CacheTest, OpenBlobStaysReadableAfterRemove) {
  const std::string key = Put("still here");
  auto blob = cache_->OpenBlob(key);
  ASSERT_TRUE(blob.ok());
  ASSERT_TRUE(cache_->RemoveBlob(key).ok());
  char buf[16];
  auto n = (*blob)->ReadAt(0, buf, sizeof buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "still here");
}

TEST_F(CacheTest, RecordsAndDocsSurviveReopen) {
  const std::string key = Put("persistent bytes");
  DocRecord doc{"{\"models\": []}", 42, "\"etag-1\"", "Tue, 01 Jan 2030 00:00:00 GMT"};
  ASSERT_TRUE(cache_->PutDoc("http://hub/index.json", doc).ok());

  Reopen();

  auto record = cache_->GetBlob(key);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->size, 16u);
  EXPECT_EQ(ReadAll(*cache_, key), "persistent bytes");
  auto got = cache_->GetDoc("http://hub/index.json");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->body, doc.body);
  EXPECT_EQ((*got)->fetched_at, 42);
  EXPECT_EQ((*got)->etag, doc.etag);
  EXPECT_EQ((*got)->last_modified, doc.last_modified);
}

TEST_F(CacheTest, DeletedBlobFileIsNotFoundAndRecordDropped) {
  const std::string key = Put("soon gone");
  ASSERT_EQ(::unlink(cache_->BlobPath(key).c_str()), 0);

  auto blob = cache_->OpenBlob(key);
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.error().code(), Code::kNotFound);
  auto record = cache_->GetBlob(key);
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
}

TEST_F(CacheTest, TruncatedBlobFileIsNotFoundAndDropped) {
  const std::string key = Put("twenty bytes of data");
  ASSERT_EQ(::truncate(cache_->BlobPath(key).c_str(), 5), 0);

  auto blob = cache_->OpenBlob(key);
  ASSERT_FALSE(blob.ok());
  EXPECT_EQ(blob.error().code(), Code::kNotFound);
  auto record = cache_->GetBlob(key);
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
  EXPECT_FALSE(Exists(cache_->BlobPath(key))) << "damaged data is removed with its record";
}

TEST_F(CacheTest, RemoveBlobDeletesRecordAndFile) {
  const std::string key = Put("to remove");
  const std::string other = Put("to keep");
  ASSERT_TRUE(cache_->RemoveBlob(key).ok());
  EXPECT_FALSE(Exists(cache_->BlobPath(key)));
  auto record = cache_->GetBlob(key);
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
  EXPECT_EQ(cache_->OpenBlob(key).error().code(), Code::kNotFound);
  EXPECT_EQ(ReadAll(*cache_, other), "to keep");
}

TEST_F(CacheTest, RemoveUnknownBlobIsOk) {
  EXPECT_TRUE(cache_->RemoveBlob(BlobKeyForUrl("http://never/cached")).ok());
}

TEST_F(CacheTest, TouchBlobUpdatesLastAccessOnly) {
  const std::string key = Put("touched");
  ASSERT_TRUE(cache_->TouchBlob(key, 1800000000).ok());
  auto record = cache_->GetBlob(key);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->last_access, 1800000000);
  EXPECT_EQ((*record)->created, 1700000000);
  EXPECT_EQ((*record)->size, 7u);
  EXPECT_TRUE(cache_->TouchBlob(BlobKeyForUrl("http://unknown"), 1).ok());
  auto unknown = cache_->GetBlob(BlobKeyForUrl("http://unknown"));
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value()) << "touching an unknown key must not create a record";
}

TEST_F(CacheTest, DocsPutGetOverwrite) {
  auto missing = cache_->GetDoc("http://hub/a");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(cache_->PutDoc("http://hub/a", {"body one", 10, "\"e1\"", ""}).ok());
  ASSERT_TRUE(cache_->PutDoc("http://hub/b", {"body b", 11, "", "lm"}).ok());
  ASSERT_TRUE(cache_->PutDoc("http://hub/a", {"body two", 20, "", "lm2"}).ok());

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
  const std::string key = Put("blob");
  auto doc = cache_->GetDoc(key);
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(doc->has_value());
}

TEST_F(CacheTest, FormatVersionMismatchWipesIndexAndBlobs) {
  const std::string key = Put("old format data");
  const std::string path = cache_->BlobPath(key);
  ASSERT_TRUE(cache_->PutDoc("http://hub/doc", {"doc", 1, "", ""}).ok());
  cache_.reset();
  WriteFormatVersion(dir_ + "/index", LittleEndian32(kFormatVersion + 1));

  Reopen();

  auto record = cache_->GetBlob(key);
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
  EXPECT_FALSE(Exists(path));
  auto doc = cache_->GetDoc("http://hub/doc");
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(doc->has_value());
  EXPECT_TRUE(IsDir(dir_ + "/blobs"));
  // The rebuilt index is usable and carries the current version.
  const std::string again = Put("new data");
  EXPECT_EQ(ReadAll(*cache_, again), "new data");
  cache_.reset();
  EXPECT_EQ(ReadFormatVersion(dir_ + "/index"), LittleEndian32(kFormatVersion));
}

TEST_F(CacheTest, MalformedFormatVersionWipes) {
  const std::string key = Put("data");
  cache_.reset();
  WriteFormatVersion(dir_ + "/index", "1");  // not 4 bytes

  Reopen();

  auto record = cache_->GetBlob(key);
  ASSERT_TRUE(record.ok());
  EXPECT_FALSE(record->has_value());
}

TEST_F(CacheTest, MatchingFormatVersionKeepsData) {
  const std::string key = Put("data");
  cache_.reset();
  WriteFormatVersion(dir_ + "/index", LittleEndian32(kFormatVersion));

  Reopen();

  EXPECT_EQ(ReadAll(*cache_, key), "data");
}

TEST_F(CacheTest, OpenRemovesStaleTmpFilesAndKeepsFreshOnes) {
  cache_.reset();
  const std::string stale = dir_ + "/tmp/blob.stale1";
  const std::string fresh = dir_ + "/tmp/blob.fresh1";
  const std::string recent = dir_ + "/tmp/blob.recent";
  WriteFile(stale, "left by a writer that died");
  WriteFile(fresh, "being written by another process");
  WriteFile(recent, "59 minutes old");
  SetMtime(stale, 2 * 3600);
  SetMtime(recent, 59 * 60);

  Reopen();

  EXPECT_FALSE(Exists(stale));
  EXPECT_TRUE(Exists(fresh));
  EXPECT_TRUE(Exists(recent));
}

// Runs `body` in a child process and returns its exit code (0: success). LMDB forbids opening one
// environment twice in the same process (closing either drops the other's fcntl locks), so a
// second Cache on the same folder has to live in another process, as it does in real use.
int RunInChild(const std::function<int()>& body) {
  fflush(nullptr);
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
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -2;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(CacheTest, CachesInTwoProcessesSeeEachOthersCommits) {
  const std::string dir = dir_;
  const std::string child_data = "written by the child";
  const std::string child_key = BlobKeyForDigest(Sha256::Of(child_data));

  // The child commits a blob and a document while this process has the cache open.
  ASSERT_EQ(RunInChild([&] {
              auto other = Cache::Open(dir);
              if (!other.ok()) return 1;
              auto writer = (*other)->NewBlob();
              if (!writer.ok() || !(*writer)->Append(child_data).ok()) return 2;
              if (!(*other)
                       ->CommitBlob(std::move(writer).value(), child_key, RecordFor(child_data))
                       .ok()) {
                return 3;
              }
              return (*other)->PutDoc("http://hub/doc", {"from the child", 5, "", ""}).ok() ? 0 : 4;
            }),
            0);
  EXPECT_EQ(ReadAll(*cache_, child_key), child_data);
  auto doc = cache_->GetDoc("http://hub/doc");
  ASSERT_TRUE(doc.ok() && doc->has_value());
  EXPECT_EQ((*doc)->body, "from the child");

  // This process commits; a child sees it and removes the child's blob.
  const std::string key = Put("written by the parent");
  EXPECT_EQ(RunInChild([&] {
              auto other = Cache::Open(dir);
              if (!other.ok()) return 1;
              auto blob = (*other)->OpenBlob(key);
              if (!blob.ok()) return 2;
              std::string buf((*blob)->size(), '\0');
              auto n = (*blob)->ReadAt(0, buf.data(), buf.size());
              if (!n.ok() || buf != "written by the parent") return 3;
              return (*other)->RemoveBlob(child_key).ok() ? 0 : 4;
            }),
            0);
  auto gone = cache_->GetBlob(child_key);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  EXPECT_EQ(cache_->OpenBlob(child_key).error().code(), Code::kNotFound);
}

TEST_F(CacheTest, ConcurrentWritersAndReadersOnOneCache) {
  constexpr int kThreads = 4;
  constexpr int kBlobsPerThread = 5;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kBlobsPerThread; ++i) {
        const std::string data = "thread " + std::to_string(t) + " blob " + std::to_string(i);
        auto writer = cache_->NewBlob();
        if (!writer.ok() || !(*writer)->Append(data).ok()) {
          failures[t] = "write failed";
          return;
        }
        const BlobRecord record = RecordFor(data);
        const std::string key = BlobKeyForDigest(record.sha256);
        if (!cache_->CommitBlob(std::move(writer).value(), key, record).ok()) {
          failures[t] = "commit failed";
          return;
        }
        auto blob = cache_->OpenBlob(key);
        std::string buf(data.size(), '\0');
        if (!blob.ok() || !(*blob)->ReadAt(0, buf.data(), buf.size()).ok() || buf != data) {
          failures[t] = "read back failed for " + data;
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

}  // namespace
}  // namespace hubfs::cache
