// ReadEngine: how file contents get from a hub into a reader, through the block cache.
//
// Blocks (cache::kBlockSize) are fetched with ranged GETs by a small pool of worker threads,
// each streaming straight into the blob's sparse file while computing the block digest, so no
// block is buffered in memory on the way. A priority queue orders the work: blocks a reader is
// waiting for, then readahead and whole-file fetches, then background completion. One fetch per
// block: within the process a block is queued or fetched once, and across processes sharing the
// cache a fetcher holds the block's lock (cache::Blob::LockBlock) and re-checks the index after
// getting it.
//
// Verification. Every blob's whole-file sha256 is computed once, in order, by reading blocks
// back as they land (from the page cache), overlapping with the fetches of later blocks:
//   strict (default)  a read waits until the whole blob is present and its sha256 matched; then
//                     blocks are served. A mismatch removes the blob: nothing of it is served.
//   lazy              a read waits only for the blocks it covers (and starts readahead for
//                     sequential readers); the rest completes in the background and is verified
//                     then. A mismatch poisons the blob: every later read fails (EIO).
// Content without a published sha256 is pinned to the digest of its first complete download
// (trust on first use): the cache keeps a TrustRecord per URL, also after the blob is evicted,
// and a later download must match its sha256, its size and (when the server sends one) its
// ETag, else the read fails (kDataLoss) and the log says what changed.
// Blocks read from disk are checked against their recorded digest the first time this process
// reads them; a damaged block is dropped and fetched again, transparently.
//
// When the cache is full and nothing can be evicted, blocks are fetched into memory instead
// (bounded by Options::memory_budget), checked against a previously recorded digest when one
// exists, and served without being stored.
//
// Servers that ignore Range (they answer 200 with the whole file): the first such answer switches
// the blob to one whole-file GET that fills its blocks in order as the bytes arrive.
//
// Offline: a read fails when no block of its blob arrived for Options::read_timeout, or when the
// fetch failed; failures are remembered for Options::failure_memory, because the kernel retries
// a failed read at once.
//
// Thread-safety: all methods may be called from any thread. Locks: BlobWork::mu before
// ReadEngine::mu_ (the blob map, the queue, the memory budget); neither is held across network
// or disk I/O.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "hubfs/cache/cache.h"
#include "hubfs/hubs/hub.h"
#include "hubfs/net/http_client.h"

namespace hubfs::fs {

enum class Verification { kStrict, kLazy };

struct ReadEngineOptions {
  unsigned workers = 4;  // parallel ranged GETs
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds failure_memory{3000};
  uint64_t max_readahead_blocks = 16;  // lazy: a sequential reader's window grows up to this
  uint64_t memory_budget = uint64_t{32} << 20;  // bytes of blocks held in memory (uncached reads)
};

struct EngineCounters {
  std::atomic<uint64_t> blocks_fetched{0};
  std::atomic<uint64_t> bytes_fetched{0};
  std::atomic<uint64_t> blocks_from_disk{0};
  std::atomic<uint64_t> blocks_repaired{0};   // damaged on disk, fetched again
  std::atomic<uint64_t> blocks_uncached{0};   // served from memory: the cache was full
  std::atomic<uint64_t> verify_failures{0};   // whole-file sha256 mismatches
  std::atomic<uint64_t> fetch_failures{0};
  std::atomic<uint64_t> reads{0};             // reads of remote files
  std::atomic<uint64_t> read_hits{0};         // ... whose first block was on disk already
  std::atomic<uint64_t> bytes_served{0};      // bytes returned to readers
  std::atomic<int64_t> fetches_in_flight{0};  // ranged or whole-file GETs running now
};

class ReadEngine {
 public:
  struct BlobWork;  // per-blob state shared by all readers in this process
  // One reader's open file.
  class File {
   public:
    ~File();  // ends this reader's use of the blob (it may be evicted again)
    uint64_t size() const;
    const std::string& key() const;
    // True when the content is verified (or will be before any byte is served): the kernel may
    // keep its page cache across opens.
    bool immutable() const { return immutable_; }

   private:
    friend class ReadEngine;
    std::shared_ptr<BlobWork> work_;
    Verification policy_ = Verification::kStrict;
    bool immutable_ = false;
    std::mutex mu_;            // guards the readahead state
    uint64_t next_offset_ = 0;
    uint64_t window_ = 0;
  };

  // `http` and `cache` must outlive the engine.
  ReadEngine(net::HttpClient& http, cache::Cache& cache, ReadEngineOptions options);
  ~ReadEngine();  // stops the workers and joins them
  ReadEngine(const ReadEngine&) = delete;
  ReadEngine& operator=(const ReadEngine&) = delete;

  // Opens `object` for reading. No download happens here; when the hub did not publish the size,
  // a HEAD request learns it. `etag`: the server's current ETag, when the caller learned it
  // (checked against the trust record of content without a published sha256).
  Result<std::unique_ptr<File>> Open(const hubs::RemoteObject& object, Verification policy,
                                     const std::string& etag = "");
  // Reads up to `size` bytes at `offset`; fewer only at the end of the file.
  Result<size_t> Read(File& file, uint64_t offset, size_t size, char* buf);

  // The cache key `object` is stored under.
  static std::string KeyFor(const hubs::RemoteObject& object);
  cache::Cache& cache() { return cache_; }

  const EngineCounters& counters() const { return counters_; }
  const ReadEngineOptions& options() const { return options_; }

 private:
  // kWanted: a reader waits for this very block. kWhole: a strict reader waits for the whole
  // blob. kReadahead: a sequential reader will want it soon. kBackground: lazy completion.
  enum Priority : int { kBackground = 0, kReadahead = 1, kWhole = 2, kWanted = 3 };
  struct Job {
    int priority;
    uint64_t seq;
    std::weak_ptr<BlobWork> work;
    uint64_t block;
    bool operator<(const Job& o) const {  // std::priority_queue pops the largest
      return priority != o.priority ? priority < o.priority : seq > o.seq;
    }
  };

  Result<std::shared_ptr<BlobWork>> WorkFor(const hubs::RemoteObject& object);
  // Trust on first use: fails when `object` (not yet verified in the cache) no longer looks like
  // its first download.
  Status CheckTrust(BlobWork& work, const std::string& etag);
  void Schedule(const std::shared_ptr<BlobWork>& work, uint64_t block, int priority);
  void StartCompletion(const std::shared_ptr<BlobWork>& work, int priority);
  Status WaitVerified(const std::shared_ptr<BlobWork>& work);
  // Waits on the blob's condition variable (lock held) until *deadline. Fails with
  // kDeadlineExceeded only when no byte arrived meanwhile; otherwise moves the deadline on.
  Status WaitForProgress(BlobWork& work, std::unique_lock<std::mutex>& lock,
                         std::chrono::steady_clock::time_point* deadline, uint64_t* seen);
  Result<size_t> ReadBlockRange(const std::shared_ptr<BlobWork>& work, uint64_t block,
                                uint64_t offset_in_block, size_t size, char* buf);
  void Readahead(File& file, uint64_t offset, size_t size);
  void WorkerLoop();
  class WholeFileSink;
  Status FetchBlock(const std::shared_ptr<BlobWork>& work, uint64_t block, int priority);
  // One block with a ranged GET; sets *range_refused when the server answered with the whole file.
  Status FetchRange(BlobWork& work, uint64_t block, int priority, bool* range_refused);
  Status FetchIntoMemory(BlobWork& work, uint64_t block);
  // For servers that ignore Range: one GET of the whole file, written block by block as it
  // arrives (blocks already present are skipped). One such stream per blob at a time.
  Status FetchWholeFile(const std::shared_ptr<BlobWork>& work);
  void AdvanceHasher(const std::shared_ptr<BlobWork>& work);
  void FinishVerification(BlobWork& work, const Digest& actual, const std::optional<GitBlobId>& git_id);

  net::HttpClient& http_;
  cache::Cache& cache_;
  ReadEngineOptions options_;
  EngineCounters counters_;

  std::mutex mu_;  // guards everything below
  std::condition_variable queue_cv_;
  std::priority_queue<Job> queue_;
  uint64_t seq_ = 0;
  bool stopping_ = false;
  std::map<std::string, std::weak_ptr<BlobWork>> works_;
  std::map<std::string, std::pair<Status, std::chrono::steady_clock::time_point>> rejected_;
  uint64_t memory_in_use_ = 0;
  std::condition_variable memory_cv_;
  std::vector<std::thread> workers_;  // last: started after everything above exists
};

}  // namespace hubfs::fs
