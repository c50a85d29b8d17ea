#include "hubfs/fs/read_engine.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hubfs/core/git_blob_id.h"
#include "hubfs/fs/errno_map.h"
#include "testing/disk_damage.h"
#include "testing/test_bytes.h"
#include "testing/fake_http_client.h"
#include "testing/temp_dir.h"

namespace hubfs::fs {
namespace {

using hubfs::test::FakeHttpClient;
using hubfs::test::FakeResponse;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kB = cache::kBlockSize;
constexpr char kUrl[] = "http://hub/models/big.onnx";

using hubfs::test::Bytes;

hubs::RemoteObject Published(const std::string& body, const std::string& url = kUrl) {
  return {url, body.size(), Sha256::Of(body)};
}

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Sits between the engine and the FakeHttpClient: logs every request and can hold or fail the
// GETs of chosen blocks (the fake scripts by URL only, this by range).
class GatedHttpClient final : public net::HttpClient {
 public:
  struct Logged {
    std::string method;
    std::optional<net::ByteRange> range;
  };

  explicit GatedHttpClient(net::HttpClient& inner) : inner_(inner) {}
  ~GatedHttpClient() override { ReleaseAll(); }

  // GETs of `block` wait until ReleaseAll().
  void Hold(uint64_t block) {
    std::lock_guard lock(mu_);
    held_.insert(block);
  }
  void ReleaseAll() {
    std::lock_guard lock(mu_);
    held_.clear();
    cv_.notify_all();
  }
  // GETs of `block` fail with `error` (before reaching the fake) until ClearFailures().
  void Fail(uint64_t block, Status error) {
    std::lock_guard lock(mu_);
    failing_[block] = std::move(error);
  }
  void ClearFailures() {
    std::lock_guard lock(mu_);
    failing_.clear();
  }
  // Waits until `n` requests are being held.
  bool WaitForHeld(int n, milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return waiting_ >= n; });
  }

  std::vector<Logged> Log() const {
    std::lock_guard lock(mu_);
    return log_;
  }
  void ClearLog() {
    std::lock_guard lock(mu_);
    log_.clear();
  }
  // Block indexes of the ranged GETs, in arrival order.
  std::vector<uint64_t> Blocks() const {
    std::vector<uint64_t> out;
    for (const auto& r : Log()) {
      if (r.method == "GET" && r.range) out.push_back(r.range->first / kB);
    }
    return out;
  }
  int Count(uint64_t block) const {
    int n = 0;
    for (uint64_t b : Blocks()) n += b == block;
    return n;
  }

  Result<net::HttpResponse> Fetch(const net::HttpRequest& request) override {
    HUBFS_RETURN_IF_ERROR(Gate(request));
    return inner_.Fetch(request);
  }
  Result<net::HttpResponse> Stream(const net::HttpRequest& request, net::ByteSink& sink) override {
    HUBFS_RETURN_IF_ERROR(Gate(request));
    return inner_.Stream(request, sink);
  }

 private:
  Status Gate(const net::HttpRequest& request) {
    std::unique_lock lock(mu_);
    log_.push_back({request.method, request.range});
    if (!request.range) return Status();
    const uint64_t block = request.range->first / kB;
    if (auto it = failing_.find(block); it != failing_.end()) return it->second;
    if (held_.count(block) != 0) {
      ++waiting_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return held_.count(block) == 0; });
      --waiting_;
    }
    return Status();
  }

  net::HttpClient& inner_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<uint64_t> held_;
  std::map<uint64_t, Status> failing_;
  std::vector<Logged> log_;
  int waiting_ = 0;
};

ReadEngineOptions TestOptions() {
  ReadEngineOptions o;
  o.read_timeout = std::chrono::seconds(10);
  o.failure_memory = std::chrono::seconds(60);
  return o;
}

class ReadEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenCache(); }

  void TearDown() override {
    // Workers stuck in a held or blocked request must be able to finish before the engine joins.
    gate_.ReleaseAll();
    gate_.ClearFailures();
    http_.Unblock(kUrl);
    engine_.reset();
  }

  void OpenCache(cache::CacheOptions options = {}) {
    engine_.reset();
    cache_.reset();
    auto opened = cache::Cache::Open(tmp_.Sub("cache"), options);
    ASSERT_TRUE(opened.ok()) << opened.error().ToString();
    cache_ = std::move(opened).value();
  }

  // A new engine (the previous one, and everything it had open, must be gone).
  ReadEngine& NewEngine(ReadEngineOptions options = TestOptions()) {
    engine_.reset();
    engine_ = std::make_unique<ReadEngine>(gate_, *cache_, options);
    return *engine_;
  }

  std::unique_ptr<ReadEngine::File> Open(const hubs::RemoteObject& object,
                                         Verification policy = Verification::kStrict) {
    auto file = engine_->Open(object, policy);
    EXPECT_TRUE(file.ok()) << file.error().ToString();
    return file.ok() ? std::move(file).value() : nullptr;
  }

  Result<std::string> Read(ReadEngine::File& file, uint64_t offset, size_t size) {
    std::string buf(size, '\0');
    auto n = engine_->Read(file, offset, size, buf.data());
    if (!n.ok()) return n.error();
    buf.resize(*n);
    return buf;
  }

  std::optional<cache::BlobRecord> Record(const std::string& key) {
    auto record = cache_->GetBlob(key);
    EXPECT_TRUE(record.ok());
    return record.ok() ? *record : std::nullopt;
  }

  // Polls the blob's record until `done` holds; false after 10 s.
  bool WaitForRecord(const std::string& key,
                     const std::function<bool(const cache::BlobRecord&)>& done) {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      auto record = cache_->GetBlob(key);
      if (record.ok() && record->has_value() && done(**record)) return true;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
  }
  bool WaitForState(const std::string& key, cache::BlobState state) {
    return WaitForRecord(key, [&](const cache::BlobRecord& r) { return r.state == state; });
  }

  // Opens `body` as published at kUrl (strict) and reads its first 10 bytes.
  Result<std::string> OpenAndRead(const std::string& body) {
    auto file = Open(Published(body));
    if (!file) return Status::Internal("open failed");
    return Read(*file, 0, 10);
  }

  // Trust on first use: `body` at kUrl (no published digest) is read once, verified and pinned,
  // then its blob is evicted; a fresh engine is ready for the next download.
  void DownloadThenEvict(const std::string& body) {
    http_.Serve(kUrl, {.body = body});
    NewEngine();
    {
      auto file = Open({kUrl, body.size(), std::nullopt});
      ASSERT_TRUE(file);
      ASSERT_EQ(Read(*file, 0, body.size()).value(), body);
    }
    ASSERT_TRUE(WaitForState(cache::BlobKeyForUrl(kUrl), cache::BlobState::kVerified));
    NewEngine();
    ASSERT_TRUE(cache_->RemoveBlob(cache::BlobKeyForUrl(kUrl)).ok());
  }

  hubfs::test::TempDir tmp_;
  FakeHttpClient http_;
  GatedHttpClient gate_{http_};
  std::unique_ptr<cache::Cache> cache_;
  std::unique_ptr<ReadEngine> engine_;
};

// 2.5 blocks: two full blocks and a short last one.
const std::string& BigBody() {
  static const std::string body = Bytes(2 * kB + kB / 2, 1);
  return body;
}

// ---- strict -------------------------------------------------------------------------------------

TEST_F(ReadEngineTest, StrictReadOfAMultiBlockObjectIsCorrectAndVerified) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  const auto object = Published(body);
  auto file = Open(object);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->size(), body.size());
  EXPECT_EQ(file->key(), cache::BlobKeyForDigest(Sha256::Of(body)));
  EXPECT_TRUE(file->immutable());
  EXPECT_EQ(http_.TotalRequests(), 0) << "opening downloads nothing";

  auto got = Read(*file, kB - 100, 200);  // across the first block boundary
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body.substr(kB - 100, 200));

  auto record = Record(file->key());
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, cache::BlobState::kVerified) << "strict serves only verified bytes";
  EXPECT_EQ(record->cached_bytes, body.size());
  EXPECT_EQ(cache_->Usage().used_bytes, body.size());
  std::vector<uint64_t> blocks = gate_.Blocks();
  std::sort(blocks.begin(), blocks.end());
  EXPECT_EQ(blocks, (std::vector<uint64_t>{0, 1, 2})) << "one ranged GET per block";
  for (const auto& r : gate_.Log()) {
    ASSERT_TRUE(r.range.has_value());
    const uint64_t b = r.range->first / kB;
    EXPECT_EQ(r.range->first, b * kB);
    EXPECT_EQ(r.range->last, std::min(b * kB + kB, body.size()) - 1);
  }

  got = Read(*file, 0, body.size() + 100);  // everything, and past the end
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == body);
  got = Read(*file, body.size() - 10, 100);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, body.substr(body.size() - 10));
  got = Read(*file, body.size(), 100);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "");
  got = Read(*file, 5, 0);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "");
  EXPECT_EQ(http_.TotalRequests(), 3) << "later reads come from the cache";
  EXPECT_EQ(engine_->counters().blocks_fetched, 3u);
  EXPECT_EQ(engine_->counters().bytes_fetched, body.size());
  EXPECT_EQ(engine_->counters().verify_failures, 0u);
}

TEST_F(ReadEngineTest, StrictReadWaitsForTheWholeFile) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  auto file = Open(Published(body));
  ASSERT_TRUE(file);
  gate_.Hold(2);

  auto reader = std::async(std::launch::async, [&] { return Read(*file, 0, 100); });
  ASSERT_TRUE(gate_.WaitForHeld(1));
  // Block 0 can arrive; the read still waits for block 2 and the digest.
  EXPECT_EQ(reader.wait_for(milliseconds(150)), std::future_status::timeout);
  EXPECT_EQ(Record(file->key())->state, cache::BlobState::kPartial);
  gate_.ReleaseAll();
  auto got = reader.get();
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body.substr(0, 100));
}

TEST_F(ReadEngineTest, StrictReadFailsWhenAnyBlockCannotBeFetched) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  auto file = Open(Published(body));
  ASSERT_TRUE(file);
  gate_.Fail(2, Status::Unavailable("GET " + std::string(kUrl) + ": connection reset"));
  auto got = Read(*file, 0, 100);  // block 0 is fine, but the file cannot be verified
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kUnavailable) << got.error().ToString();
  EXPECT_EQ(Record(file->key())->state, cache::BlobState::kPartial);
}

TEST_F(ReadEngineTest, StrictWrongDigestIsDataLossForEveryReadAndCachesNothing) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  const hubs::RemoteObject object{kUrl, body.size(), Sha256::Of("what the hub published")};
  const std::string key = cache::BlobKeyForDigest(*object.sha256);
  auto file = Open(object);
  ASSERT_TRUE(file);

  auto got = Read(*file, 0, 16);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kDataLoss);
  EXPECT_EQ(ErrnoFor(got.error()), EIO);
  EXPECT_TRUE(Contains(got.error().message(), "sha256")) << got.error().message();
  EXPECT_TRUE(Contains(got.error().message(), ToHex(*object.sha256))) << got.error().message();
  EXPECT_TRUE(Contains(got.error().message(), ToHex(Sha256::Of(body)))) << got.error().message();

  EXPECT_FALSE(Record(key).has_value()) << "nothing of a rejected blob stays cached";
  EXPECT_FALSE(std::filesystem::exists(cache_->BlobPath(key)));
  EXPECT_EQ(cache_->Usage().used_bytes, 0u);
  EXPECT_EQ(engine_->counters().verify_failures, 1u);

  // Within failure_memory every read fails the same way, without a new download.
  for (uint64_t offset : {uint64_t{0}, kB + 5, 2 * kB + 7}) {
    auto again = Read(*file, offset, 10);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code(), Code::kDataLoss);
  }
  EXPECT_EQ(http_.RequestCount(kUrl), 3);
  EXPECT_FALSE(Record(key).has_value());

  // Also for a new open (an application retrying, or another one): it fails at once, and no
  // blob file is created again.
  file.reset();
  auto reopened = engine_->Open(object, Verification::kStrict);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code(), Code::kDataLoss);
  EXPECT_FALSE(std::filesystem::exists(cache_->BlobPath(key)));
  EXPECT_EQ(http_.RequestCount(kUrl), 3);
}

TEST_F(ReadEngineTest, StrictRejectionIsRetriedAfterFailureMemory) {
  const std::string& body = BigBody();
  std::string corrupt = body;
  corrupt[kB + 3] ^= 1;
  http_.Serve(kUrl, {.body = corrupt});
  ReadEngineOptions options = TestOptions();
  options.failure_memory = milliseconds(0);
  NewEngine(options);
  const auto object = Published(body);
  auto file = Open(object);
  ASSERT_TRUE(file);

  auto got = Read(*file, 0, 16);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kDataLoss);
  EXPECT_EQ(http_.RequestCount(kUrl), 3);
  got = Read(*file, 0, 16);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kDataLoss);
  EXPECT_EQ(http_.RequestCount(kUrl), 6) << "downloaded again";
  EXPECT_FALSE(Record(file->key()).has_value());

  http_.Serve(kUrl, {.body = body});  // the origin is fixed
  got = Read(*file, kB - 8, 16);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body.substr(kB - 8, 16));
  EXPECT_EQ(Record(file->key())->state, cache::BlobState::kVerified);
  EXPECT_EQ(engine_->counters().verify_failures, 2u);
}

// ---- lazy ---------------------------------------------------------------------------------------

TEST_F(ReadEngineTest, LazyReadFetchesItsBlockFirstThenCompletesAndVerifies) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  ReadEngineOptions options = TestOptions();
  options.workers = 1;  // one request at a time: the log shows the order of the work
  NewEngine(options);
  auto file = Open(Published(body), Verification::kLazy);
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->immutable()) << "not verified yet";

  auto got = Read(*file, 2 * kB + 10, 100);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body.substr(2 * kB + 10, 100));
  std::vector<uint64_t> blocks = gate_.Blocks();
  ASSERT_FALSE(blocks.empty());
  EXPECT_EQ(blocks[0], 2u) << "the block the reader waits for comes first";

  // The rest arrives in the background and the whole file is verified.
  ASSERT_TRUE(WaitForState(file->key(), cache::BlobState::kVerified));
  blocks = gate_.Blocks();
  std::sort(blocks.begin(), blocks.end());
  EXPECT_EQ(blocks, (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(Record(file->key())->cached_bytes, body.size());
  got = Read(*file, 0, body.size());
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == body);
  EXPECT_EQ(http_.RequestCount(kUrl), 3);

  // Once verified, a lazy open may keep the page cache.
  auto again = Open(Published(body), Verification::kLazy);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->immutable());
}

TEST_F(ReadEngineTest, LazyReadDoesNotWaitForOtherBlocks) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  auto file = Open(Published(body), Verification::kLazy);
  ASSERT_TRUE(file);
  gate_.Hold(0);
  gate_.Hold(1);

  auto reader = std::async(std::launch::async, [&] { return Read(*file, kB * 2, 1000); });
  ASSERT_EQ(reader.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "a lazy read must not wait for blocks it does not cover";
  auto got = reader.get();
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body.substr(2 * kB, 1000));
  EXPECT_EQ(Record(file->key())->state, cache::BlobState::kPartial);

  gate_.ReleaseAll();
  EXPECT_TRUE(WaitForState(file->key(), cache::BlobState::kVerified));
}

TEST_F(ReadEngineTest, LazyWrongDigestPoisonsTheBlob) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  const hubs::RemoteObject object{kUrl, body.size(), Sha256::Of("what the hub published")};
  const std::string key = cache::BlobKeyForDigest(*object.sha256);
  auto file = Open(object, Verification::kLazy);
  ASSERT_TRUE(file);

  auto first = Read(*file, 0, 100);  // may be served before the digest is known
  if (first.ok()) {
    EXPECT_EQ(*first, body.substr(0, 100));
  }
  ASSERT_TRUE(WaitForState(key, cache::BlobState::kPoisoned));

  for (uint64_t offset : {uint64_t{0}, kB, 2 * kB}) {
    auto got = Read(*file, offset, 100);
    ASSERT_FALSE(got.ok()) << "offset " << offset;
    EXPECT_EQ(got.error().code(), Code::kDataLoss);
    EXPECT_TRUE(Contains(got.error().message(), "poisoned")) << got.error().message();
  }
  // The state is recorded first, then the bytes are dropped.
  EXPECT_TRUE(WaitForRecord(key, [](const cache::BlobRecord& r) { return r.cached_bytes == 0; }))
      << "a poisoned blob's bytes are dropped";
  auto record = Record(key);
  ASSERT_TRUE(record.has_value());
  EXPECT_TRUE(Contains(record->note, "sha256")) << record->note;
  EXPECT_EQ(cache_->Usage().used_bytes, 0u);
  EXPECT_EQ(engine_->counters().verify_failures, 1u);

  // The poison outlives the engine: a new one fails at once, lazily or strictly.
  const int requests = http_.RequestCount(kUrl);
  file.reset();
  NewEngine();
  for (Verification policy : {Verification::kLazy, Verification::kStrict}) {
    auto reopened = Open(object, policy);
    ASSERT_TRUE(reopened);
    auto got = Read(*reopened, 0, 100);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code(), Code::kDataLoss);
  }
  EXPECT_EQ(http_.RequestCount(kUrl), requests);
}

TEST_F(ReadEngineTest, LazyResumesAPartialBlobInALaterSession) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  {
    gate_.Fail(0, Status::Unavailable("down"));
    gate_.Fail(1, Status::Unavailable("down"));
    auto file = Open(Published(body), Verification::kLazy);
    ASSERT_TRUE(file);
    auto got = Read(*file, 2 * kB, 10);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
  }
  NewEngine();  // the first session's workers are gone
  gate_.ClearFailures();
  gate_.ClearLog();
  auto file = Open(Published(body));
  ASSERT_TRUE(file);
  auto got = Read(*file, 0, body.size());
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_TRUE(*got == body);
  std::vector<uint64_t> blocks = gate_.Blocks();
  std::sort(blocks.begin(), blocks.end());
  EXPECT_EQ(blocks, (std::vector<uint64_t>{0, 1})) << "block 2 was kept from the first session";
  EXPECT_EQ(Record(file->key())->state, cache::BlobState::kVerified);
}

// ---- single flight ------------------------------------------------------------------------------

TEST_F(ReadEngineTest, ConcurrentColdReadersFetchEachBlockOnce) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  http_.Block(kUrl);
  constexpr int kReaders = 8;
  std::vector<std::string> got(kReaders);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReaders; ++i) {
    threads.emplace_back([&, i] {
      auto file = engine_->Open(Published(body), i % 2 ? Verification::kLazy : Verification::kStrict);
      if (!file.ok()) {
        got[i] = file.error().ToString();
        return;
      }
      const uint64_t offset = (i * kB) / 3;
      auto n = Read(**file, offset, 1000);
      got[i] = n.ok() ? *n : n.error().ToString();
    });
  }
  EXPECT_TRUE(http_.WaitForRequests(kUrl, 3));
  std::this_thread::sleep_for(milliseconds(50));  // give duplicates a chance to show up
  EXPECT_EQ(http_.RequestCount(kUrl), 3);
  http_.Unblock(kUrl);  // (no ASSERT before this: the readers must be joined)
  for (auto& t : threads) t.join();
  for (int i = 0; i < kReaders; ++i) {
    EXPECT_EQ(got[i], body.substr((i * kB) / 3, 1000)) << "reader " << i;
  }
  EXPECT_EQ(http_.RequestCount(kUrl), 3);
  for (uint64_t b = 0; b < 3; ++b) EXPECT_EQ(gate_.Count(b), 1) << "block " << b;
}

TEST_F(ReadEngineTest, TwoEnginesOnOneCacheFetchEachBlockOnce) {
  // Each engine opens its own descriptor of the blob file, as two processes would, so the
  // per-block file locks are what keeps them from fetching twice.
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  ReadEngine first(gate_, *cache_, TestOptions());
  ReadEngine second(gate_, *cache_, TestOptions());
  http_.Block(kUrl);
  std::string got[2];
  std::thread threads[2];
  ReadEngine* engines[2] = {&first, &second};
  for (int i = 0; i < 2; ++i) {
    threads[i] = std::thread([&, i] {
      auto file = engines[i]->Open(Published(body), Verification::kStrict);
      if (!file.ok()) {
        got[i] = file.error().ToString();
        return;
      }
      std::string buf(body.size(), '\0');
      auto n = engines[i]->Read(**file, 0, buf.size(), buf.data());
      got[i] = n.ok() ? buf.substr(0, *n) : n.error().ToString();
    });
  }
  EXPECT_TRUE(http_.WaitForRequests(kUrl, 3));
  std::this_thread::sleep_for(milliseconds(50));
  http_.Unblock(kUrl);  // (no ASSERT before this: the readers must be joined)
  for (auto& t : threads) t.join();
  EXPECT_TRUE(got[0] == body) << got[0].substr(0, 200);
  EXPECT_TRUE(got[1] == body) << got[1].substr(0, 200);
  EXPECT_EQ(http_.RequestCount(kUrl), 3);
  EXPECT_EQ(first.counters().blocks_fetched + second.counters().blocks_fetched, 3u);
}

TEST_F(ReadEngineTest, BlocksAreFetchedInParallelUpToTheWorkerCount) {
  const std::string body = Bytes(5 * kB + 1, 2);
  http_.Serve(kUrl, {.body = body});
  ReadEngineOptions options = TestOptions();
  options.workers = 3;
  NewEngine(options);
  http_.Block(kUrl);
  auto file = Open(Published(body));
  ASSERT_TRUE(file);
  auto reader = std::async(std::launch::async, [&] { return Read(*file, 0, 10); });
  EXPECT_TRUE(http_.WaitForRequests(kUrl, 3)) << "three GETs at once";
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(http_.RequestCount(kUrl), 3) << "never more than the workers";
  http_.Unblock(kUrl);
  auto got = reader.get();
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body.substr(0, 10));
  EXPECT_EQ(http_.RequestCount(kUrl), 6);
}

// ---- damage on disk -----------------------------------------------------------------------------

using hubfs::test::FlipByte;

TEST_F(ReadEngineTest, DamagedBlockOnDiskIsFetchedAgainTransparently) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  const auto object = Published(body);
  std::string key;
  {
    auto file = Open(object);
    ASSERT_TRUE(file);
    ASSERT_TRUE(Read(*file, 0, 10).ok());
    key = file->key();
  }
  ASSERT_EQ(Record(key)->state, cache::BlobState::kVerified);
  FlipByte(cache_->BlobPath(key), kB + 4321);

  for (Verification policy : {Verification::kStrict, Verification::kLazy}) {
    SCOPED_TRACE(policy == Verification::kStrict ? "strict" : "lazy");
    NewEngine();  // a new session checks each block it reads from disk once
    gate_.ClearLog();
    auto file = Open(object, policy);
    ASSERT_TRUE(file);
    auto got = Read(*file, kB + 4000, 1000);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_EQ(*got, body.substr(kB + 4000, 1000));
    got = Read(*file, 0, body.size());
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_TRUE(*got == body);
    if (policy == Verification::kStrict) {
      EXPECT_EQ(gate_.Blocks(), (std::vector<uint64_t>{1})) << "only the damaged block, once";
      EXPECT_EQ(engine_->counters().blocks_repaired, 1u);
      EXPECT_EQ(engine_->counters().blocks_fetched, 1u);
    } else {
      EXPECT_TRUE(gate_.Blocks().empty()) << "repaired in the strict session";
    }
    EXPECT_GE(engine_->counters().blocks_from_disk, 2u);
    EXPECT_EQ(Record(key)->state, cache::BlobState::kVerified);
    EXPECT_EQ(cache_->Usage().used_bytes, body.size());
  }
}

TEST_F(ReadEngineTest, DamagedBlockWhoseOriginChangedIsDataLoss) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  const auto object = Published(body);
  std::string key;
  {
    auto file = Open(object);
    ASSERT_TRUE(file);
    ASSERT_TRUE(Read(*file, 0, 10).ok());
    key = file->key();
  }
  FlipByte(cache_->BlobPath(key), kB + 1);
  std::string changed = body;
  changed[kB + 100] ^= 0x40;
  http_.Serve(kUrl, {.body = changed});

  NewEngine();
  auto file = Open(object);
  ASSERT_TRUE(file);
  auto got = Read(*file, kB, 10);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kDataLoss) << got.error().ToString();
  // The undamaged blocks are still served.
  got = Read(*file, 0, 10);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body.substr(0, 10));
}

// ---- offline, stalls, HTTP errors ---------------------------------------------------------------

TEST_F(ReadEngineTest, OfflineReadFailsPromptly) {
  http_.Serve(kUrl, {.status = 503});
  for (auto memory : {milliseconds(60000), milliseconds(0)}) {
    for (Verification policy : {Verification::kStrict, Verification::kLazy}) {
      SCOPED_TRACE(testing::Message() << "failure_memory " << memory.count() << " ms, "
                                      << (policy == Verification::kStrict ? "strict" : "lazy"));
      ReadEngineOptions options = TestOptions();
      options.read_timeout = milliseconds(300);
      options.failure_memory = memory;
      NewEngine(options);
      auto file = Open(Published(BigBody()), policy);
      ASSERT_TRUE(file);
      const auto start = Clock::now();
      auto reader = std::async(std::launch::async, [&] { return Read(*file, kB, 10); });
      if (reader.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
        ADD_FAILURE() << "the read hangs while the server fails";
        http_.Serve(kUrl, {.body = BigBody()});  // lets it end
        reader.wait();
        return;
      }
      auto got = reader.get();
      const auto elapsed = Clock::now() - start;
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.error().code(), Code::kUnavailable) << got.error().ToString();
      EXPECT_EQ(ErrnoFor(got.error()), EIO);
      EXPECT_LT(elapsed, milliseconds(1000)) << "a failed fetch fails the read without a timeout";
      EXPECT_GT(engine_->counters().fetch_failures, 0u);
      file.reset();
    }
  }
}

TEST_F(ReadEngineTest, FailureIsRememberedThenRetried) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  ReadEngineOptions options = TestOptions();
  options.workers = 1;
  NewEngine(options);
  auto file = Open(Published(body), Verification::kLazy);
  ASSERT_TRUE(file);
  gate_.Fail(1, Status::Unavailable("GET " + std::string(kUrl) + ": connection reset"));
  auto got = Read(*file, kB, 10);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kUnavailable);
  const size_t attempts = gate_.Count(1);
  EXPECT_EQ(attempts, 1u);
  got = Read(*file, kB, 10);  // within failure_memory: the same error, no new request
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(gate_.Count(1), 1);

  // With failure_memory 0 the next read tries again.
  gate_.ClearFailures();
  options.failure_memory = milliseconds(0);
  file.reset();
  NewEngine(options);
  file = Open(Published(body), Verification::kLazy);
  ASSERT_TRUE(file);
  gate_.Fail(1, Status::Unavailable("reset"));
  ASSERT_FALSE(Read(*file, kB, 10).ok());
  gate_.ClearFailures();
  got = Read(*file, kB, 10);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body.substr(kB, 10));
}

TEST_F(ReadEngineTest, StalledOriginIsDeadlineExceeded) {
  const std::string urls[2] = {"http://stalled/strict.onnx", "http://stalled/lazy.onnx"};
  const Verification policies[2] = {Verification::kStrict, Verification::kLazy};
  ReadEngineOptions options = TestOptions();
  options.read_timeout = milliseconds(300);
  NewEngine(options);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(urls[i]);
    const std::string body = Bytes(2 * kB + 10, 20 + i);
    http_.Serve(urls[i], {.body = body});
    http_.Block(urls[i]);  // requests are accepted and never answered
    auto file = Open(Published(body, urls[i]), policies[i]);
    ASSERT_TRUE(file);
    const auto start = Clock::now();
    auto got = Read(*file, 0, 10);
    const auto elapsed = Clock::now() - start;
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code(), Code::kDeadlineExceeded) << got.error().ToString();
    EXPECT_TRUE(Contains(got.error().message(), urls[i])) << got.error().message();
    EXPECT_GE(elapsed, milliseconds(250));
    EXPECT_LT(elapsed, milliseconds(2000));
  }
  // Let the stuck workers finish, so the engine can stop.
  for (const auto& url : urls) http_.Unblock(url);
}

TEST_F(ReadEngineTest, NotFoundForAListedFileIsAnIoErrorNotEnoent) {
  NewEngine();  // no script: the fake answers 404
  for (Verification policy : {Verification::kStrict, Verification::kLazy}) {
    auto file = Open(Published("listed but gone"), policy);
    ASSERT_TRUE(file);
    auto got = Read(*file, 0, 10);
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.error().code(), Code::kNotFound) << got.error().ToString();
    EXPECT_EQ(ErrnoFor(got.error()), EIO) << got.error().ToString();
    EXPECT_EQ(got.error().http_status(), 404);
  }
}

TEST_F(ReadEngineTest, BadRequestForAListedFileIsAnIoError) {
  http_.Serve(kUrl, {.status = 400});
  NewEngine();
  auto got = OpenAndRead("rejected");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(ErrnoFor(got.error()), EIO) << got.error().ToString();
  EXPECT_EQ(got.error().http_status(), 400);
}

TEST_F(ReadEngineTest, ForbiddenKeepsItsCode) {
  http_.Serve(kUrl, {.status = 403});
  NewEngine();
  auto got = OpenAndRead("gated");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(got.error().http_status(), 403);
}

// Some asset hosts answer every GET with the whole file: one stream then fills every block.
TEST_F(ReadEngineTest, ServerIgnoringRangeIsReadWithOneWholeFileGet) {
  NewEngine();
  int seed = 20;
  for (Verification policy : {Verification::kStrict, Verification::kLazy}) {
    const std::string url = "http://assets/" + std::to_string(seed) + ".ckpt";
    const std::string body = Bytes(2 * kB + kB / 2, seed++);
    http_.Serve(url, {.body = body, .serve_ranges = false, .chunk_size = 100000});
    auto file = Open(Published(body, url), policy);
    ASSERT_TRUE(file);
    auto got = Read(*file, kB, 10);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_EQ(*got, body.substr(kB, 10));
    auto all = Read(*file, 0, body.size());
    ASSERT_TRUE(all.ok());
    EXPECT_TRUE(*all == body);
    ASSERT_TRUE(WaitForState(cache::BlobKeyForDigest(Sha256::Of(body)), cache::BlobState::kVerified));
    // Before the switch, each worker may have seen one whole-file answer to a ranged GET (and
    // dropped it); then exactly one GET without a range read the file.
    size_t whole = 0;
    for (const auto& r : http_.Requests(url)) whole += !r.range.has_value();
    EXPECT_EQ(whole, 1u);
    EXPECT_LE(http_.Requests(url).size(), 1u + TestOptions().workers);
  }
}

TEST_F(ReadEngineTest, WholeFileGetThatBreaksFailsTheReadsAndIsRetried) {
  const std::string& body = BigBody();
  http_.ServeSequence(kUrl, {{.body = body, .serve_ranges = false, .truncate_after = kB + 5,
                              .truncate_error = Status::Unavailable("connection reset")},
                             {.body = body, .serve_ranges = false}});
  ReadEngineOptions options = TestOptions();
  options.failure_memory = milliseconds(100);
  NewEngine(options);
  auto file = Open(Published(body), Verification::kLazy);
  ASSERT_TRUE(file);
  auto got = Read(*file, 2 * kB, 10);
  if (got.ok()) {
    EXPECT_EQ(*got, body.substr(2 * kB, 10)) << "a retry may already have succeeded";
  } else {
    EXPECT_EQ(ErrnoFor(got.error()), EIO);
  }
  std::this_thread::sleep_for(options.failure_memory + milliseconds(50));
  auto again = Read(*file, 2 * kB, 10);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(*again, body.substr(2 * kB, 10));
}

TEST_F(ReadEngineTest, WholeFileAnswerIsFineForASingleBlockObject) {
  const std::string body = Bytes(1000, 3);
  http_.Serve(kUrl, {.body = body, .serve_ranges = false});
  NewEngine();
  auto file = Open(Published(body));
  ASSERT_TRUE(file);
  auto got = Read(*file, 10, 20);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body.substr(10, 20));
}

TEST_F(ReadEngineTest, ShortOrTruncatedBodyIsAnError) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body, .truncate_after = 1000, .truncate_error = Status()});
  NewEngine();
  auto file = Open(Published(body));
  ASSERT_TRUE(file);
  auto got = Read(*file, 0, 10);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(ErrnoFor(got.error()), EIO) << got.error().ToString();
  EXPECT_EQ(cache_->Usage().used_bytes, 0u);
}

TEST_F(ReadEngineTest, BodyInSmallChunksIsAssembled) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body, .chunk_size = 4096 + 7});
  NewEngine();
  auto file = Open(Published(body));
  ASSERT_TRUE(file);
  auto got = Read(*file, 0, body.size());
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_TRUE(*got == body);
}

// ---- sizes and digests that are not published ---------------------------------------------------

TEST_F(ReadEngineTest, UnknownSizeIsLearnedWithHead) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  const hubs::RemoteObject object{kUrl, std::nullopt, std::nullopt};
  auto file = Open(object);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->size(), body.size());
  EXPECT_EQ(file->key(), cache::BlobKeyForUrl(kUrl));
  auto log = gate_.Log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].method, "HEAD");

  auto got = Read(*file, 0, body.size());
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_TRUE(*got == body);
  auto record = Record(cache::BlobKeyForUrl(kUrl));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, cache::BlobState::kVerified);
  EXPECT_EQ(record->sha256, Sha256::Of(body)) << "pinned to the first download";
  EXPECT_FALSE(record->published);
}

TEST_F(ReadEngineTest, HeadWithoutUsableLengthIsUnavailable) {
  http_.Serve(kUrl, {.headers = {{"Content-Length", "lots"}}, .body = "x"});
  NewEngine();
  auto file = engine_->Open({kUrl, std::nullopt, std::nullopt}, Verification::kStrict);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().code(), Code::kUnavailable);
  EXPECT_TRUE(Contains(file.error().message(), "Content-Length")) << file.error().message();
}

TEST_F(ReadEngineTest, HeadNotFoundForAListedFileIsNotEnoent) {
  NewEngine();
  auto file = engine_->Open({kUrl, std::nullopt, std::nullopt}, Verification::kStrict);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().code(), Code::kNotFound);
  EXPECT_EQ(ErrnoFor(file.error()), EIO);
}

// ---- trust on first use (no published sha256) ----------------------------------------------

TEST_F(ReadEngineTest, FirstDownloadWithoutDigestRecordsTrust) {
  const std::string body = Bytes(3000, 7);
  http_.Serve(kUrl, {.headers = {{"ETag", "\"v1\""}}, .body = body});
  NewEngine();
  auto file = Open({kUrl, std::nullopt, std::nullopt});  // the size (and ETag) from a HEAD
  ASSERT_TRUE(file);
  ASSERT_EQ(Read(*file, 0, body.size()).value(), body);
  ASSERT_TRUE(WaitForState(cache::BlobKeyForUrl(kUrl), cache::BlobState::kVerified));
  auto trust = cache_->GetTrust(kUrl);
  ASSERT_TRUE(trust.ok() && trust->has_value());
  EXPECT_EQ((*trust)->sha256, Sha256::Of(body));
  EXPECT_EQ((*trust)->size, body.size());
  EXPECT_EQ((*trust)->etag, "\"v1\"");
}

// Hugging Face files outside LFS publish only their git blob id: it is checked, then the
// sha256 is pinned as for any unpublished digest.
TEST_F(ReadEngineTest, PublishedGitBlobIdIsCheckedAndTheSha256Pinned) {
  const std::string body = Bytes(3000, 7);
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  hubs::RemoteObject object{kUrl, body.size(), std::nullopt};
  object.git_blob_id = GitBlobHasher::Of(body);
  auto file = Open(object);
  ASSERT_TRUE(file);
  ASSERT_EQ(Read(*file, 0, body.size()).value(), body);
  ASSERT_TRUE(WaitForState(cache::BlobKeyForUrl(kUrl), cache::BlobState::kVerified));
  EXPECT_EQ(cache_->GetTrust(kUrl).value()->sha256, Sha256::Of(body));
}

TEST_F(ReadEngineTest, WrongGitBlobIdRejectsTheDownload) {
  const std::string body = Bytes(3000, 7);
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  hubs::RemoteObject object{kUrl, body.size(), std::nullopt};
  object.git_blob_id = GitBlobHasher::Of(body + "x");
  auto file = Open(object);
  ASSERT_TRUE(file);
  auto got = Read(*file, 0, body.size());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(ErrnoFor(got.error()), EIO);
  EXPECT_TRUE(Contains(got.error().message(), "git blob id mismatch")) << got.error().message();
  EXPECT_FALSE(cache_->GetTrust(kUrl).value().has_value()) << "nothing pinned from a bad download";
}

// After eviction, a second download of the same URL must be the same bytes.
TEST_F(ReadEngineTest, ChangedContentAfterEvictionIsRefusedInStrict) {
  const std::string body = Bytes(3000, 7);
  DownloadThenEvict(body);
  std::string changed = body;
  changed[10] ^= 1;
  http_.Serve(kUrl, {.body = changed});
  auto file = Open({kUrl, body.size(), std::nullopt});
  ASSERT_TRUE(file);
  auto got = Read(*file, 0, body.size());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(ErrnoFor(got.error()), EIO);
  EXPECT_TRUE(Contains(got.error().message(), "pinned on first download")) << got.error().message();
  // The trusted digest is still the first one.
  EXPECT_EQ(cache_->GetTrust(kUrl).value()->sha256, Sha256::Of(body));
}

TEST_F(ReadEngineTest, SameContentAfterEvictionIsServed) {
  const std::string body = Bytes(3000, 7);
  DownloadThenEvict(body);
  auto file = Open({kUrl, body.size(), std::nullopt});
  ASSERT_TRUE(file);
  EXPECT_EQ(Read(*file, 0, body.size()).value(), body);
}

TEST_F(ReadEngineTest, ChangedSizeOrEtagAfterEvictionFailsAtOpen) {
  const std::string body = Bytes(3000, 7);
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  {
    auto file = engine_->Open({kUrl, body.size(), std::nullopt}, Verification::kStrict, "\"v1\"");
    ASSERT_TRUE(file.ok());
    ASSERT_EQ(Read(**file, 0, body.size()).value(), body);
  }
  ASSERT_TRUE(WaitForState(cache::BlobKeyForUrl(kUrl), cache::BlobState::kVerified));
  EXPECT_EQ(cache_->GetTrust(kUrl).value()->etag, "\"v1\"");
  NewEngine();
  // Still cached and verified: served whatever the server says now.
  EXPECT_TRUE(engine_->Open({kUrl, body.size(), std::nullopt}, Verification::kStrict, "\"v2\"").ok());
  NewEngine();
  ASSERT_TRUE(cache_->RemoveBlob(cache::BlobKeyForUrl(kUrl)).ok());
  auto etag = engine_->Open({kUrl, body.size(), std::nullopt}, Verification::kStrict, "\"v2\"");
  ASSERT_FALSE(etag.ok());
  EXPECT_EQ(ErrnoFor(etag.error()), EIO);
  EXPECT_TRUE(Contains(etag.error().message(), "ETag")) << etag.error().message();
  auto size = engine_->Open({kUrl, body.size() + 1, std::nullopt}, Verification::kStrict, "\"v1\"");
  ASSERT_FALSE(size.ok());
  EXPECT_TRUE(Contains(size.error().message(), "size")) << size.error().message();
  EXPECT_TRUE(engine_->Open({kUrl, body.size(), std::nullopt}, Verification::kStrict, "\"v1\"").ok());
}

TEST_F(ReadEngineTest, EmptyObjectReadsAsEmpty) {
  http_.Serve(kUrl, {.body = ""});
  NewEngine();
  auto got = OpenAndRead("");
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, "");
  EXPECT_EQ(http_.RequestCount(kUrl), 0);
}

TEST_F(ReadEngineTest, SameContentAtTwoUrlsIsStoredOnce) {
  const std::string body = Bytes(3000, 4);
  http_.Serve(kUrl, {.body = body});
  http_.Serve("http://mirror/b.onnx", {.body = body});
  NewEngine();
  auto a = Open(Published(body));
  ASSERT_TRUE(a);
  ASSERT_TRUE(Read(*a, 0, 10).ok());
  auto b = Open(Published(body, "http://mirror/b.onnx"));
  ASSERT_TRUE(b);
  EXPECT_EQ(a->key(), b->key());
  auto got = Read(*b, 0, body.size());
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, body);
  EXPECT_EQ(http_.RequestCount("http://mirror/b.onnx"), 0);
  EXPECT_EQ(cache_->Usage().used_bytes, body.size());
}

// ---- a full cache -------------------------------------------------------------------------------

class FullCacheTest : public ReadEngineTest {
 protected:
  // A cache of 2.75 blocks, 2 of them held by a pinned blob: the object's full blocks cannot be
  // stored, its short last one can.
  void SetUp() override {
    OpenCache({.size_limit = 2 * kB + 3 * kB / 4});
    const std::string other = Bytes(2 * kB, 9);
    const std::string key = cache::BlobKeyForDigest(Sha256::Of(other));
    auto blob = cache_->OpenBlob(key, {other.size(), Sha256::Of(other), "http://hub/other"});
    ASSERT_TRUE(blob.ok());
    for (uint64_t i = 0; i < 2; ++i) {
      auto writer = (*blob)->WriteBlock(i);
      ASSERT_TRUE(writer.ok());
      ASSERT_TRUE(writer->Append(std::string_view(other).substr(i * kB, kB)).ok());
      ASSERT_TRUE(writer->Commit().ok());
    }
    ASSERT_TRUE(cache_->SetPinned(key, true).ok());
  }
};

TEST_F(FullCacheTest, StrictReadsAreServedUncached) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  auto file = Open(Published(body));
  ASSERT_TRUE(file);
  auto got = Read(*file, 0, body.size());
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_TRUE(*got == body);
  EXPECT_GE(engine_->counters().blocks_uncached, 2u);
  EXPECT_LE(cache_->Usage().used_bytes, cache_->Usage().size_limit);
  auto record = Record(file->key());
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, cache::BlobState::kVerified);

  // The blocks that were not stored are fetched again, and checked against their digests.
  const int before = http_.RequestCount(kUrl);
  got = Read(*file, 10, 100);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, body.substr(10, 100));
  EXPECT_GT(http_.RequestCount(kUrl), before);
}

TEST_F(FullCacheTest, LazyReadsAreServedUncached) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  auto file = Open(Published(body), Verification::kLazy);
  ASSERT_TRUE(file);
  for (uint64_t offset : {kB + 5, uint64_t{0}, 2 * kB}) {
    auto got = Read(*file, offset, 1000);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_EQ(*got, body.substr(offset, 1000));
  }
  EXPECT_GT(engine_->counters().blocks_uncached, 0u);
  EXPECT_TRUE(WaitForState(file->key(), cache::BlobState::kVerified));
  auto got = Read(*file, 0, body.size());
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_TRUE(*got == body);
}

TEST_F(FullCacheTest, ChangedOriginIsCaughtWithoutStoring) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  NewEngine();
  auto file = Open(Published(body));
  ASSERT_TRUE(file);
  ASSERT_TRUE(Read(*file, 0, kB).ok());  // all of block 0: its memory is given back
  std::string changed = body;
  changed[50] ^= 1;
  http_.Serve(kUrl, {.body = changed});
  auto got = Read(*file, 0, 10);
  ASSERT_FALSE(got.ok()) << "block 0 differs from the digest recorded when it was first served";
  EXPECT_EQ(got.error().code(), Code::kDataLoss);
}

TEST_F(FullCacheTest, StrictReadOfAnObjectLargerThanTheMemoryBudget) {
  const std::string& body = BigBody();
  http_.Serve(kUrl, {.body = body});
  ReadEngineOptions options = TestOptions();
  options.memory_budget = 2 * kB;  // less than the object: blocks must not all be held at once
  options.read_timeout = milliseconds(2000);
  NewEngine(options);
  auto file = Open(Published(body));
  ASSERT_TRUE(file);
  auto got = Read(*file, 0, body.size());
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_TRUE(*got == body);
}

TEST_F(FullCacheTest, PartialRandomReadsDoNotExhaustTheMemoryBudget) {
  // Reads that touch a block without reaching its end must not pin it in memory for good:
  // later blocks need the budget too.
  const std::string body = Bytes(5 * kB, 5);
  http_.Serve(kUrl, {.body = body});
  ReadEngineOptions options = TestOptions();
  options.memory_budget = 2 * kB;
  options.read_timeout = milliseconds(1000);
  NewEngine(options);
  for (Verification policy : {Verification::kStrict, Verification::kLazy}) {
    SCOPED_TRACE(policy == Verification::kStrict ? "strict" : "lazy");
    auto file = Open(Published(body), policy);
    ASSERT_TRUE(file);
    for (uint64_t b : {0, 3, 1, 4, 2}) {
      auto got = Read(*file, b * kB + 100, 10);
      ASSERT_TRUE(got.ok()) << "block " << b << ": " << got.error().ToString();
      EXPECT_EQ(*got, body.substr(b * kB + 100, 10));
    }
  }
}

}  // namespace
}  // namespace hubfs::fs
