#include "hubfs/fs/read_engine.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "block_sinks.h"
#include "hubfs/core/logging.h"
#include "hubfs/core/sha256.h"

namespace hubfs::fs {
namespace {

using Clock = std::chrono::steady_clock;

// A 2 MiB buffer per thread for reading whole blocks back (to check or hash them). Threads are
// the engine's workers and the FUSE loop's, so memory is bounded by their number.
char* Scratch() {
  thread_local std::unique_ptr<char[]> buffer(new char[cache::kBlockSize]);
  return buffer.get();
}

// A file the hub lists answering 404 (or another 4xx than 401/403/429) is the hub's
// inconsistency: an I/O error for the reader, never ENOENT/EINVAL on a file `ls` just showed.
Status ForListedFile(const Status& s) {
  if (s.code() == Code::kNotFound || s.code() == Code::kInvalidArgument) {
    return Status::Unavailable(s.message() + " (the hub lists this file)").WithHttpStatus(s.http_status());
  }
  return s;
}

}  // namespace

struct ReadEngine::BlobWork {
  enum State : uint8_t {
    kMissing,   // not on disk; not queued
    kQueued,    // waiting in the job queue
    kFetching,  // a worker is downloading it
    kPresent,   // on disk, not yet checked against its digest by this process
    kChecked,   // on disk and checked (or written) by this process
    kInMemory,  // held in `memory` because the cache was full
    kFailed,    // the last fetch failed (see failures)
  };
  enum Verify { kUnverified, kVerified, kPoisoned, kRejected };

  std::string key;
  hubs::RemoteObject object;  // size always set
  // The digest the whole file must have: published, or pinned on first use (trust); nullopt
  // for a first download without a published digest.
  std::optional<Digest> expected;
  std::optional<cache::TrustRecord> trust;
  std::shared_ptr<cache::Blob> blob;
  uint64_t blocks = 0;

  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  std::vector<State> state;
  std::vector<int8_t> queued_priority;
  std::vector<std::shared_ptr<const std::string>> memory;
  std::vector<bool> wanted;  // an in-memory block a reader waits for (kept until served)
  std::vector<bool> served;  // an in-memory block some reader got (kept only for its next read)
  std::map<uint64_t, std::pair<Status, Clock::time_point>> failures;
  // Bumped whenever bytes arrive or a block settles; readers time out only when it stands still.
  std::atomic<uint64_t> progress{0};
  int completion_priority = -1;   // priority the whole blob was last queued at; -1: not queued
  bool lazy = false;              // opened lazily by some reader: mismatches poison
  std::string etag;               // the server's ETag as a reader saw it (for the trust record)
  Verify verify = kUnverified;
  Status verify_error;
  Clock::time_point rejected_at;
  bool range_refused = false;  // the server ignores Range: whole-file GETs only
  bool whole_file_running = false;
  bool hashing = false;
  uint64_t hashed = 0;
  std::atomic<uint64_t> hashed_mirror{0};  // `hashed`, readable without `mu` (memory budget)
  std::unique_ptr<Sha256> sha;

  // The last failure of `block`, if it happened less than `memory_window` ago or at/after
  // `since` (while the caller was waiting for it: that reader gets the error whatever the window).
  bool RecentFailure(uint64_t block, std::chrono::milliseconds memory_window, Status* out,
                     Clock::time_point since = Clock::time_point::max()) const {
    auto it = failures.find(block);
    if (it == failures.end()) return false;
    const Clock::time_point at = it->second.second;
    if (at < since && Clock::now() - at >= memory_window) return false;
    *out = it->second.first;
    return true;
  }
};

std::string ReadEngine::KeyFor(const hubs::RemoteObject& object) {
  return object.sha256 ? cache::BlobKeyForDigest(*object.sha256) : cache::BlobKeyForUrl(object.url);
}

ReadEngine::File::~File() {
  if (work_) work_->blob->ReleaseUse();
}

uint64_t ReadEngine::File::size() const { return work_->object.size.value_or(0); }
const std::string& ReadEngine::File::key() const { return work_->key; }

ReadEngine::ReadEngine(net::HttpClient& http, cache::Cache& cache, ReadEngineOptions options)
    : http_(http), cache_(cache), options_(options) {
  for (unsigned i = 0; i < std::max(1u, options_.workers); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

ReadEngine::~ReadEngine() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  memory_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

Result<std::shared_ptr<ReadEngine::BlobWork>> ReadEngine::WorkFor(const hubs::RemoteObject& object) {
  const std::string key = KeyFor(object);
  {
    std::lock_guard lock(mu_);
    auto it = works_.find(key);
    if (it != works_.end()) {
      if (auto work = it->second.lock()) return work;
    }
  }
  // Opening the blob is disk work (index and file), done without the engine lock.
  cache::BlobSpec spec{*object.size, object.sha256, object.url};
  HUBFS_ASSIGN_OR_RETURN(auto blob, cache_.OpenBlob(key, spec));
  auto work = std::make_shared<BlobWork>();
  work->key = key;
  work->object = object;
  work->blob = blob;
  work->expected = object.sha256;
  if (!object.sha256) {
    HUBFS_ASSIGN_OR_RETURN(work->trust, cache_.GetTrust(object.url));
    if (work->trust) work->expected = work->trust->sha256;
  }
  work->blocks = blob->block_count();
  work->state.assign(work->blocks, BlobWork::kMissing);
  work->queued_priority.assign(work->blocks, -1);
  work->memory.resize(work->blocks);
  work->wanted.assign(work->blocks, false);
  work->served.assign(work->blocks, false);
  HUBFS_ASSIGN_OR_RETURN(std::vector<bool> present, blob->PresentBlocks());
  for (uint64_t i = 0; i < work->blocks; ++i) {
    if (present[i]) work->state[i] = BlobWork::kPresent;
  }
  HUBFS_ASSIGN_OR_RETURN(cache::BlobRecord record, blob->Record());
  if (record.state == cache::BlobState::kVerified) work->verify = BlobWork::kVerified;
  if (record.state == cache::BlobState::kPoisoned) {
    work->verify = BlobWork::kPoisoned;
    work->verify_error = Status::DataLoss(object.url + " is poisoned: " + record.note);
  }
  std::lock_guard lock(mu_);
  auto& slot = works_[key];
  if (auto existing = slot.lock()) return existing;  // another thread was faster
  slot = work;
  return work;
}

Status ReadEngine::CheckTrust(BlobWork& work, const std::string& etag) {
  std::lock_guard lock(work.mu);
  if (!etag.empty() && work.etag.empty()) work.etag = etag;
  if (!work.trust || work.verify == BlobWork::kVerified) return Status();  // nothing to compare, or served from cache
  const cache::TrustRecord& trust = *work.trust;
  std::string changed;
  if (trust.size != *work.object.size) {
    changed = "its size was " + std::to_string(trust.size) + " bytes, now " + std::to_string(*work.object.size);
  } else if (!trust.etag.empty() && !etag.empty() && trust.etag != etag) {
    changed = "its ETag was " + trust.etag + ", now " + etag;
  }
  if (changed.empty()) return Status();
  const std::string why = work.object.url + " changed on the server since hubfs first downloaded it (" +
                          changed + "); the hub publishes no sha256, so hubfs trusts only the first "
                          "download (sha256 " + ToHex(trust.sha256) + ") and will not serve this one";
  HUBFS_LOG_ERROR("{}", why);
  return Status::DataLoss(why);
}

Result<std::unique_ptr<ReadEngine::File>> ReadEngine::Open(const hubs::RemoteObject& object,
                                                           Verification policy,
                                                           const std::string& etag) {
  std::string seen_etag = etag;
  hubs::RemoteObject resolved = object;
  if (!resolved.size) {
    net::HttpRequest head;
    head.method = "HEAD";
    head.url = object.url;
    auto response = http_.Fetch(head);
    if (!response) return ForListedFile(response.error());
    auto length = response->Header("Content-Length");
    if (!length || length->empty() || length->find_first_not_of("0123456789") != std::string::npos) {
      return Status::Unavailable("HEAD " + object.url + ": no Content-Length, so the size is unknown");
    }
    resolved.size = std::stoull(*length);
    seen_etag = response->Header("ETag").value_or("");
  }
  {
    // Just rejected (strict, wrong sha256): fail the open too, before a blob file is created
    // again for content that is not going to be fetched within failure_memory.
    std::lock_guard lock(mu_);
    if (auto it = rejected_.find(KeyFor(resolved)); it != rejected_.end() &&
        Clock::now() - it->second.second < options_.failure_memory) {
      return it->second.first;
    }
  }
  HUBFS_ASSIGN_OR_RETURN(auto work, WorkFor(resolved));
  if (!resolved.sha256) HUBFS_RETURN_IF_ERROR(CheckTrust(*work, seen_etag));
  if (Status s = work->blob->Touch(); !s.ok()) HUBFS_LOG_WARN("{}: {}", work->key, s.ToString());
  HUBFS_RETURN_IF_ERROR(work->blob->AcquireUse());  // an open file is never evicted
  auto file = std::make_unique<File>();
  file->work_ = work;
  file->policy_ = policy;
  std::lock_guard lock(work->mu);
  if (policy == Verification::kLazy) work->lazy = true;
  // Strict files are verified before any byte is served; lazy ones only if already verified.
  file->immutable_ = policy == Verification::kStrict || work->verify == BlobWork::kVerified;
  return file;
}

void ReadEngine::Schedule(const std::shared_ptr<BlobWork>& work, uint64_t block, int priority) {
  {
    std::lock_guard lock(work->mu);
    auto& st = work->state[block];
    Status ignored;
    bool retry = st == BlobWork::kFailed &&
                 !work->RecentFailure(block, options_.failure_memory, &ignored);
    if (st == BlobWork::kMissing || retry) {
      st = BlobWork::kQueued;
    } else if (!(st == BlobWork::kQueued && work->queued_priority[block] < priority)) {
      return;  // present, in flight, recently failed, or already queued as urgently
    }
    work->queued_priority[block] = static_cast<int8_t>(priority);
  }
  {
    std::lock_guard lock(mu_);
    queue_.push(Job{priority, seq_++, work, block});
  }
  queue_cv_.notify_one();
}

void ReadEngine::StartCompletion(const std::shared_ptr<BlobWork>& work, int priority) {
  std::vector<uint64_t> todo;
  {
    std::lock_guard lock(work->mu);
    if (work->verify != BlobWork::kUnverified || work->completion_priority >= priority) return;
    work->completion_priority = priority;
    for (uint64_t i = 0; i < work->blocks; ++i) {
      auto st = work->state[i];
      if (st == BlobWork::kMissing || st == BlobWork::kFailed ||
          (st == BlobWork::kQueued && work->queued_priority[i] < priority)) {
        todo.push_back(i);
      }
    }
  }
  for (uint64_t i : todo) Schedule(work, i, priority);  // in block order: the hasher's order
  AdvanceHasher(work);  // blocks already on disk (an earlier session) are hashed now
}

Status ReadEngine::WaitForProgress(BlobWork& work, std::unique_lock<std::mutex>& lock,
                                   std::chrono::steady_clock::time_point* deadline, uint64_t* seen) {
  if (work.cv.wait_until(lock, *deadline) != std::cv_status::timeout) return Status();
  if (work.progress == *seen) {
    return Status::DeadlineExceeded("no data arrived from " + work.object.url + " for " +
                                    std::to_string(options_.read_timeout.count()) + " ms");
  }
  *seen = work.progress;  // slow but alive: keep waiting
  *deadline = Clock::now() + options_.read_timeout;
  return Status();
}

Status ReadEngine::WaitVerified(const std::shared_ptr<BlobWork>& work) {
  const auto started = Clock::now();
  StartCompletion(work, kWhole);
  std::unique_lock lock(work->mu);
  auto deadline = Clock::now() + options_.read_timeout;
  uint64_t seen = work->progress;
  while (work->verify == BlobWork::kUnverified) {
    for (const auto& [block, failure] : work->failures) {
      Status error;
      if (work->RecentFailure(block, options_.failure_memory, &error, started)) return error;
    }
    if (work->completion_priority < 0) {  // a failure cancelled it: queue again (outside the lock)
      lock.unlock();
      StartCompletion(work, kWhole);
      lock.lock();
      continue;
    }
    HUBFS_RETURN_IF_ERROR(WaitForProgress(*work, lock, &deadline, &seen));
  }
  return work->verify == BlobWork::kVerified ? Status() : work->verify_error;
}

Result<size_t> ReadEngine::Read(File& file, uint64_t offset, size_t size, char* buf) {
  std::shared_ptr<BlobWork> work = file.work_;
  {
    // A strict download that failed verification is not repeated at once, even for a new open.
    std::lock_guard lock(mu_);
    if (auto it = rejected_.find(work->key); it != rejected_.end()) {
      if (Clock::now() - it->second.second < options_.failure_memory) return it->second.first;
      rejected_.erase(it);
    }
  }
  {
    std::unique_lock lock(work->mu);
    if (work->verify == BlobWork::kPoisoned) return work->verify_error;
    if (work->verify == BlobWork::kRejected) {
      if (Clock::now() - work->rejected_at < options_.failure_memory) return work->verify_error;
      lock.unlock();
      HUBFS_ASSIGN_OR_RETURN(auto fresh, WorkFor(work->object));  // start over: a fresh download
      HUBFS_RETURN_IF_ERROR(fresh->blob->AcquireUse());
      work->blob->ReleaseUse();
      work = fresh;
      file.work_ = work;
    }
  }
  const uint64_t total = *work->object.size;
  if (offset >= total || size == 0) return size_t{0};
  size = static_cast<size_t>(std::min<uint64_t>(size, total - offset));
  counters_.reads++;
  {
    // A hit: the first block of the read is on disk (or in memory) already.
    std::lock_guard lock(work->mu);
    const auto st = work->state[offset / cache::kBlockSize];
    if (st == BlobWork::kPresent || st == BlobWork::kChecked || st == BlobWork::kInMemory) counters_.read_hits++;
  }

  if (file.policy_ == Verification::kStrict) {
    bool verified;
    {
      std::lock_guard lock(work->mu);
      verified = work->verify == BlobWork::kVerified;
    }
    if (!verified) HUBFS_RETURN_IF_ERROR(WaitVerified(work));
  } else {
    // The blocks this read covers first: idle workers take whatever is queued first.
    for (uint64_t b = offset / cache::kBlockSize; b <= (offset + size - 1) / cache::kBlockSize; ++b) {
      Schedule(work, b, kWanted);
    }
    Readahead(file, offset, size);
  }

  size_t done = 0;
  while (done < size) {
    const uint64_t at = offset + done;
    const uint64_t block = at / cache::kBlockSize;
    const uint64_t in_block = at % cache::kBlockSize;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(size - done, cache::kBlockSize - in_block));
    HUBFS_ASSIGN_OR_RETURN(size_t n, ReadBlockRange(work, block, in_block, want, buf + done));
    done += n;
    if (n < want) break;
  }
  // Lazy: the rest of the blob is queued only now, so that queueing a large file's blocks does
  // not stand between this reader and its first bytes.
  if (file.policy_ == Verification::kLazy) StartCompletion(work, kBackground);
  std::lock_guard lock(work->mu);
  if (work->verify == BlobWork::kPoisoned) return work->verify_error;  // found while we read
  counters_.bytes_served += done;
  return done;
}

Result<size_t> ReadEngine::ReadBlockRange(const std::shared_ptr<BlobWork>& work, uint64_t block,
                                          uint64_t offset_in_block, size_t size, char* buf) {
  const cache::Blob& blob = *work->blob;
  const auto started = Clock::now();
  std::unique_lock lock(work->mu);
  auto deadline = started + options_.read_timeout;
  uint64_t seen = work->progress;
  for (int damaged = 0; damaged < 3;) {
    switch (work->state[block]) {
      case BlobWork::kChecked: {
        lock.unlock();
        auto n = blob.ReadUnchecked(block * cache::kBlockSize + offset_in_block, buf, size);
        if (!n) return n.error();
        if (*n == size) return size;
        lock.lock();
        work->state[block] = BlobWork::kPresent;  // short read: let the digest check decide
        continue;
      }
      case BlobWork::kPresent: {
        lock.unlock();
        char* scratch = Scratch();
        Status s = blob.ReadBlock(block, scratch);
        counters_.blocks_from_disk++;
        lock.lock();
        if (s.ok()) {
          work->state[block] = BlobWork::kChecked;
          std::memcpy(buf, scratch + offset_in_block, size);
          return size;
        }
        if (!s.IsDataLoss() && !s.IsNotFound()) return s;
        HUBFS_LOG_WARN("{}; fetching it again", s.message());
        counters_.blocks_repaired++;
        work->state[block] = BlobWork::kMissing;
        ++damaged;
        continue;
      }
      case BlobWork::kInMemory: {
        auto data = work->memory[block];
        std::memcpy(buf, data->data() + offset_in_block, size);
        work->served[block] = true;
        // Keep it until a reader got to its end (a sequential reader reads a block in two
        // 1 MiB requests) and the hasher is past it; then give the memory back.
        if (offset_in_block + size == data->size()) work->wanted[block] = false;
        if (!work->wanted[block] && (work->hashed > block || work->verify != BlobWork::kUnverified)) {
          work->memory[block].reset();
          work->served[block] = false;
          work->state[block] = BlobWork::kMissing;
        }
        return size;
      }
      case BlobWork::kFailed: {
        Status error;
        if (work->RecentFailure(block, options_.failure_memory, &error, started)) return error;
        [[fallthrough]];
      }
      case BlobWork::kMissing:
      case BlobWork::kQueued:
        if (work->state[block] != BlobWork::kQueued || work->queued_priority[block] < kWanted) {
          lock.unlock();
          Schedule(work, block, kWanted);
          lock.lock();
          continue;
        }
        [[fallthrough]];
      case BlobWork::kFetching:
        HUBFS_RETURN_IF_ERROR(WaitForProgress(*work, lock, &deadline, &seen));
        continue;
    }
  }
  return Status::DataLoss("block " + std::to_string(block) + " of " + work->object.url +
                          " keeps arriving damaged");
}

void ReadEngine::Readahead(File& file, uint64_t offset, size_t size) {
  uint64_t first = 0, count = 0;
  {
    std::lock_guard lock(file.mu_);
    if (offset == file.next_offset_ && offset != 0) {
      file.window_ = std::clamp<uint64_t>(file.window_ * 2, 2, options_.max_readahead_blocks);
    } else if (offset != file.next_offset_) {
      file.window_ = 0;  // a random reader: fetch only what it asks for
    }
    file.next_offset_ = offset + size;
    first = (offset + size) / cache::kBlockSize;
    count = file.window_;
  }
  const auto& work = file.work_;
  for (uint64_t b = first; b < std::min(first + count, work->blocks); ++b) Schedule(work, b, kReadahead);
}

void ReadEngine::WorkerLoop() {
  while (true) {
    Job job;
    {
      std::unique_lock lock(mu_);
      queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.top();
      queue_.pop();
    }
    auto work = job.work.lock();
    if (!work) continue;  // every reader is gone
    {
      std::lock_guard lock(work->mu);
      if (work->state[job.block] != BlobWork::kQueued) continue;  // a duplicate, already done
      work->state[job.block] = BlobWork::kFetching;
    }
    // FetchBlock sets the block's new state itself on success, while it still owns the block:
    // once it has published kInMemory, a reader may consume the block and another worker may
    // own it again, so a state seen here no longer says what this fetch did.
    counters_.fetches_in_flight++;
    Status s = FetchBlock(work, job.block, job.priority);
    counters_.fetches_in_flight--;
    {
      std::lock_guard lock(work->mu);
      if (s.ok()) {
        work->failures.erase(job.block);
      } else {
        counters_.fetch_failures++;
        work->state[job.block] = BlobWork::kFailed;
        work->failures[job.block] = {ForListedFile(s), Clock::now()};
        work->completion_priority = -1;  // the next reader queues the rest again
        HUBFS_LOG_DEBUG("block {} of {}: {}", job.block, work->object.url, s.ToString());
      }
      work->progress++;
    }
    work->cv.notify_all();
    AdvanceHasher(work);
  }
}

Status ReadEngine::FetchBlock(const std::shared_ptr<BlobWork>& work_ptr, uint64_t block, int priority) {
  BlobWork& work = *work_ptr;
  bool refused;
  {
    std::lock_guard lock(work.mu);
    refused = work.range_refused;
  }
  // Asking for this block alone would fetch the whole file again: join the one stream.
  if (refused) return FetchWholeFile(work_ptr);
  {
    bool range_refused = false;
    Status s = FetchRange(work, block, priority, &range_refused);
    if (!range_refused) return s;
  }
  HUBFS_LOG_INFO("{}: the server ignores Range requests; fetching the whole file in one GET",
                 work.object.url);
  {
    std::lock_guard lock(work.mu);
    work.range_refused = true;
  }
  return FetchWholeFile(work_ptr);
}

Status ReadEngine::FetchRange(BlobWork& work, uint64_t block, int priority, bool* range_refused) {
  cache::Blob& blob = *work.blob;
  const uint64_t first = block * cache::kBlockSize;
  const uint64_t last = first + blob.BlockLength(block) - 1;
  // Another hubfs process may be fetching this block: wait for it, then look again.
  HUBFS_RETURN_IF_ERROR(blob.LockBlock(block));
  struct Unlock {
    cache::Blob& b;
    uint64_t i;
    ~Unlock() { b.UnlockBlock(i); }
  } unlock{blob, block};
  HUBFS_ASSIGN_OR_RETURN(cache::BlockInfo info, blob.Block(block));
  if (info.present) {
    std::lock_guard lock(work.mu);
    work.state[block] = BlobWork::kPresent;
    return Status();
  }
  // Room under the limit before any byte lands. Background completion does not push out blobs
  // that readers used more recently.
  auto reserved = blob.WriteBlock(block, /*background=*/priority == kBackground);
  if (!reserved) {
    if (reserved.error().code() == Code::kResourceExhausted) {
      HUBFS_LOG_DEBUG("block {} of {} served uncached: {}", block, work.object.url, reserved.error().message());
      return FetchIntoMemory(work, block);
    }
    return reserved.error();
  }
  cache::Blob::Writer& writer = *reserved;
  CacheBlockSink sink(writer, first, last, blob.size(), work.object.url, &work.progress);
  net::HttpRequest request;
  request.url = work.object.url;
  request.range = net::ByteRange{first, last};
  auto response = http_.Stream(request, sink);
  if (!response && sink.range_refused()) {
    *range_refused = true;  // the writer is released on return, before the whole-file GET
    return response.error();
  }
  if (!response) return response.error();
  counters_.blocks_fetched++;
  counters_.bytes_fetched += writer.written();
  HUBFS_RETURN_IF_ERROR(writer.Commit());
  std::lock_guard lock(work.mu);
  work.state[block] = BlobWork::kChecked;  // written by us: no need to check it again
  return Status();
}

// Splits one whole-file GET into the blob's blocks: each block not yet on disk is reserved,
// written and committed as its bytes arrive, and readers are woken block by block.
class ReadEngine::WholeFileSink final : public net::ByteSink {
 public:
  WholeFileSink(ReadEngine& engine, BlobWork& work) : engine_(engine), work_(work) {}
  ~WholeFileSink() override { Abandon(); }

  Status Begin(const net::HttpResponse& head) override {
    Abandon();
    offset_ = 0;
    if (head.status != 200) {
      return Status::DataLoss("GET " + work_.object.url + ": expected HTTP 200, got " + std::to_string(head.status));
    }
    return Status();
  }

  Status Write(std::string_view data) override {
    work_.progress.fetch_add(1, std::memory_order_relaxed);
    while (!data.empty()) {
      if (offset_ >= work_.blob->size()) return Status::DataLoss("GET " + work_.object.url + ": longer than its size");
      const uint64_t block = offset_ / cache::kBlockSize;
      const uint64_t in_block = offset_ % cache::kBlockSize;
      const size_t length = work_.blob->BlockLength(block);
      if (in_block == 0) HUBFS_RETURN_IF_ERROR(StartBlock(block));
      const size_t n = std::min<size_t>(data.size(), length - in_block);
      if (writer_) HUBFS_RETURN_IF_ERROR(writer_->Append(data.substr(0, n)));
      offset_ += n;
      data.remove_prefix(n);
      if (in_block + n == length) HUBFS_RETURN_IF_ERROR(FinishBlock(block));
    }
    return Status();
  }

  uint64_t received() const { return offset_; }

 private:
  Status StartBlock(uint64_t block) {
    {
      std::lock_guard lock(work_.mu);
      const auto st = work_.state[block];
      if (st == BlobWork::kPresent || st == BlobWork::kChecked || st == BlobWork::kInMemory) return Status();
    }
    auto reserved = work_.blob->WriteBlock(block);
    if (!reserved) return reserved.error().WithContext("whole-file GET of " + work_.object.url);
    writer_.emplace(std::move(reserved).value());
    return Status();
  }

  Status FinishBlock(uint64_t block) {
    if (!writer_) return Status();  // was already there
    engine_.counters_.blocks_fetched++;
    engine_.counters_.bytes_fetched += writer_->written();
    Status s = writer_->Commit();
    writer_.reset();
    HUBFS_RETURN_IF_ERROR(s);
    {
      std::lock_guard lock(work_.mu);
      work_.state[block] = BlobWork::kChecked;
      work_.failures.erase(block);
      work_.progress++;
    }
    work_.cv.notify_all();
    return Status();
  }

  void Abandon() { writer_.reset(); }  // an uncommitted block frees its bytes and reservation

  ReadEngine& engine_;
  BlobWork& work_;
  uint64_t offset_ = 0;
  std::optional<cache::Blob::Writer> writer_;
};

Status ReadEngine::FetchWholeFile(const std::shared_ptr<BlobWork>& work) {
  {
    std::lock_guard lock(work->mu);
    if (work->whole_file_running) return Status();  // the running stream fills this block too
    bool missing = false;
    for (uint64_t b = 0; b < work->blocks && !missing; ++b) {
      const auto st = work->state[b];
      missing = st != BlobWork::kPresent && st != BlobWork::kChecked && st != BlobWork::kInMemory;
    }
    if (!missing) return Status();  // a stream that just ended brought everything
    work->whole_file_running = true;
  }
  Status result;
  {
    WholeFileSink sink(*this, *work);
    net::HttpRequest request;
    request.url = work->object.url;
    auto response = http_.Stream(request, sink);
    if (!response) {
      result = response.error();
    } else if (sink.received() != work->blob->size()) {
      result = Status::DataLoss("GET " + work->object.url + ": " + std::to_string(sink.received()) +
                                " bytes, expected " + std::to_string(work->blob->size()));
    }
  }
  {
    std::lock_guard lock(work->mu);
    work->whole_file_running = false;
    if (!result.ok()) {
      // Blocks that waited for the stream fail with it; a later read starts another one.
      for (uint64_t b = 0; b < work->blocks; ++b) {
        if (work->state[b] == BlobWork::kFetching || work->state[b] == BlobWork::kQueued) {
          work->state[b] = BlobWork::kFailed;
          work->failures[b] = {result, Clock::now()};
        }
      }
      work->completion_priority = -1;
      work->progress++;
    }
  }
  work->cv.notify_all();
  AdvanceHasher(work);
  return result;
}

Status ReadEngine::FetchIntoMemory(BlobWork& work, uint64_t block) {
  const size_t length = work.blob->BlockLength(block);
  // Blocks already served to a reader that stopped short of their end are kept for its next
  // read; when the budget is short they go first, or random readers would pin it for good.
  auto reclaim_served = [this] {
    std::vector<std::shared_ptr<BlobWork>> works;
    {
      std::lock_guard lock(mu_);
      for (const auto& [key, weak] : works_) {
        if (auto w = weak.lock()) works.push_back(std::move(w));
      }
    }
    for (const auto& w : works) {
      std::lock_guard lock(w->mu);
      for (uint64_t b = 0; b < w->blocks; ++b) {
        if (w->state[b] == BlobWork::kInMemory && w->served[b] &&
            (w->hashed > b || w->verify != BlobWork::kUnverified)) {
          w->memory[b].reset();
          w->wanted[b] = false;
          w->served[b] = false;
          w->state[b] = BlobWork::kMissing;
        }
      }
    }
  };
  {
    // The block the hasher needs next may always be held: blocks waiting in memory for the
    // hasher are freed only once it passes them, so refusing it could wait forever.
    std::unique_lock lock(mu_);
    auto may_take = [&] {
      return stopping_ || work.hashed_mirror.load() == block ||
             memory_in_use_ + length <= options_.memory_budget || memory_in_use_ == 0;
    };
    while (!may_take()) {
      lock.unlock();
      reclaim_served();
      lock.lock();
      if (may_take()) break;
      memory_cv_.wait_for(lock, std::chrono::milliseconds(20));  // also for blocks served meanwhile
    }
    if (stopping_) return Status::Cancelled("shutting down");
    memory_in_use_ += length;
  }
  // The buffer gives its bytes back to the budget when the last holder drops it.
  auto release = [this, length](std::string* p) {
    delete p;
    {
      std::lock_guard lock(mu_);
      memory_in_use_ -= length;
    }
    memory_cv_.notify_all();
  };
  std::shared_ptr<std::string> data(new std::string, release);
  data->reserve(length);
  const uint64_t first = block * cache::kBlockSize;
  MemoryBlockSink sink(*data, first, first + length - 1, work.blob->size(), work.object.url,
                       &work.progress);
  net::HttpRequest request;
  request.url = work.object.url;
  request.range = net::ByteRange{first, first + length - 1};
  auto response = http_.Stream(request, sink);
  if (!response) return response.error();
  if (data->size() != length) {
    return Status::DataLoss("GET " + work.object.url + ": block " + std::to_string(block) + " is short");
  }
  HUBFS_RETURN_IF_ERROR(work.blob->CheckBlock(block, *data));
  if (Status s = work.blob->RecordDigest(block, *data); !s.ok()) {
    HUBFS_LOG_WARN("{}: {}", work.key, s.ToString());
  }
  counters_.blocks_fetched++;
  counters_.blocks_uncached++;
  counters_.bytes_fetched += length;
  std::lock_guard lock(work.mu);
  work.memory[block] = std::move(data);
  work.served[block] = false;
  work.wanted[block] = work.queued_priority[block] >= kWanted;
  work.state[block] = BlobWork::kInMemory;
  return Status();
}

void ReadEngine::AdvanceHasher(const std::shared_ptr<BlobWork>& work) {
  {
    std::lock_guard lock(work->mu);
    if (work->hashing || work->verify != BlobWork::kUnverified) return;
    work->hashing = true;
    if (!work->sha) {
      work->sha = std::make_unique<Sha256>();
      work->hashed = 0;
      work->hashed_mirror = 0;
    }
  }
  char* scratch = Scratch();
  while (true) {
    uint64_t block;
    BlobWork::State st;
    std::shared_ptr<const std::string> in_memory;
    int repair_priority;
    {
      std::lock_guard lock(work->mu);
      repair_priority = std::max(work->completion_priority, static_cast<int>(kReadahead));
      block = work->hashed;
      if (block == work->blocks) break;
      st = work->state[block];
      in_memory = work->memory[block];
      if (st != BlobWork::kPresent && st != BlobWork::kChecked && st != BlobWork::kInMemory) {
        work->hashing = false;  // the worker that lands this block continues from here
        return;
      }
    }
    const size_t length = work->blob->BlockLength(block);
    std::string_view data;
    Status s;
    if (st == BlobWork::kInMemory) {
      data = *in_memory;
    } else if (st == BlobWork::kChecked &&
               work->blob->ReadUnchecked(block * cache::kBlockSize, scratch, length).value_or(0) == length) {
      data = std::string_view(scratch, length);  // written or checked by us: no second check
    } else {
      s = work->blob->ReadBlock(block, scratch);
      data = std::string_view(scratch, length);
    }
    if (!s.ok()) {
      {
        std::lock_guard lock(work->mu);
        work->hashing = false;
        if (s.IsDataLoss() || s.IsNotFound()) {
          counters_.blocks_repaired++;
          work->state[block] = BlobWork::kMissing;
        } else {
          work->state[block] = BlobWork::kFailed;
          work->failures[block] = {s, Clock::now()};
          work->progress++;
        }
      }
      work->cv.notify_all();
      Schedule(work, block, repair_priority);
      return;
    }
    work->sha->Update(data);
    {
      std::lock_guard lock(work->mu);
      if (work->state[block] == BlobWork::kPresent) work->state[block] = BlobWork::kChecked;
      work->hashed++;
      work->hashed_mirror = work->hashed;
      if (st == BlobWork::kInMemory && !work->wanted[block]) {
        work->memory[block].reset();  // hashed and nobody waits for it: give the memory back
        work->served[block] = false;
        work->state[block] = BlobWork::kMissing;
      }
    }
    {
      std::lock_guard lock(mu_);  // a fetch waiting for memory may be the hasher's next block
    }
    memory_cv_.notify_all();
  }
  FinishVerification(*work, work->sha->Finish());
  {
    std::lock_guard lock(work->mu);
    work->hashing = false;
    work->sha.reset();
  }
  work->cv.notify_all();
}

void ReadEngine::FinishVerification(BlobWork& work, const Digest& actual) {
  const auto& expected = work.expected;
  if (!expected || actual == *expected) {
    if (Status s = work.blob->MarkVerified(actual); !s.ok()) {
      HUBFS_LOG_WARN("{}: could not record the verification: {}", work.key, s.ToString());
    }
    if (!expected) {
      cache::TrustRecord trust;
      trust.sha256 = actual;
      trust.size = *work.object.size;
      {
        std::lock_guard lock(work.mu);
        trust.etag = work.etag;
      }
      trust.pinned_at = static_cast<int64_t>(std::time(nullptr));
      if (Status s = cache_.PutTrust(work.object.url, trust); !s.ok()) {
        HUBFS_LOG_WARN("{}: could not record the trusted digest: {}", work.object.url, s.ToString());
      }
      std::lock_guard lock(work.mu);
      work.trust = trust;
      work.expected = actual;
      HUBFS_LOG_INFO("{}: no published sha256; pinned {} on first download", work.object.url, ToHex(actual));
    }
    std::lock_guard lock(work.mu);
    work.verify = BlobWork::kVerified;
    return;
  }
  counters_.verify_failures++;
  const std::string why = "GET " + work.object.url + ": sha256 mismatch: expected " + ToHex(*expected) +
                          (work.object.sha256 ? std::string() : " (pinned on first download)") +
                          ", got " + ToHex(actual);
  bool lazy;
  {
    std::lock_guard lock(work.mu);
    lazy = work.lazy;
  }
  if (lazy) {
    // Lazy readers may have seen bytes already: the blob stays poisoned, so every later read
    // fails too, also after a remount.
    // Mark it first: a reader copying a block while its bytes are dropped below fails its
    // end-of-read check instead of returning what it copied.
    HUBFS_LOG_ERROR("{}; the blob is poisoned and will not be served", why);
    {
      std::lock_guard lock(work.mu);
      work.verify = BlobWork::kPoisoned;
      work.verify_error = Status::DataLoss(why + "; the blob is poisoned");
      std::fill(work.state.begin(), work.state.end(), BlobWork::kMissing);
    }
    if (Status s = work.blob->MarkPoisoned(why); !s.ok()) HUBFS_LOG_WARN("{}: {}", work.key, s.ToString());
    return;
  }
  // Strict: nothing was served. Drop the bytes; a later read (after failure_memory) retries.
  HUBFS_LOG_ERROR("{}; nothing cached", why);
  if (Status s = cache_.RemoveBlob(work.key); !s.ok()) HUBFS_LOG_WARN("{}: {}", work.key, s.ToString());
  const Status error = Status::DataLoss(why + "; nothing cached");
  {
    std::lock_guard lock(mu_);
    works_.erase(work.key);
    if (rejected_.size() > 4096) rejected_.clear();  // bounded
    rejected_[work.key] = {error, Clock::now()};
  }
  std::lock_guard lock(work.mu);
  work.verify = BlobWork::kRejected;
  work.verify_error = error;
  work.rejected_at = Clock::now();
}

}  // namespace hubfs::fs
