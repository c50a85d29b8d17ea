// The read engine's workers: ranged GETs into the cache, whole-file GETs for servers that ignore
// Range, and blocks held in memory when the cache is full (read_engine.h).
#include <algorithm>
#include <cstring>

#include "blob_work.h"
#include "block_sinks.h"
#include "hubfs/core/logging.h"

namespace hubfs::fs {

using read_engine_internal::Clock;
using read_engine_internal::ForListedFile;

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
    // Another hubfs process may be fetching this block: wait for it, then look again (as
    // FetchRange does); a block it completed is skipped.
    HUBFS_RETURN_IF_ERROR(work_.blob->LockBlock(block));
    locked_ = block;
    auto info = work_.blob->Block(block);
    if (info && info->present) {
      Unlock();
      std::lock_guard lock(work_.mu);
      work_.state[block] = BlobWork::kPresent;
      return Status();
    }
    auto reserved = work_.blob->WriteBlock(block);
    if (!reserved) return reserved.error().WithContext("whole-file GET of " + work_.object.url);
    writer_.emplace(std::move(reserved).value());
    return Status();
  }

  void Unlock() {
    if (locked_) work_.blob->UnlockBlock(*locked_);
    locked_.reset();
  }

  Status FinishBlock(uint64_t block) {
    if (!writer_) return Status();  // was already there
    engine_.counters_.blocks_fetched++;
    engine_.counters_.bytes_fetched += writer_->written();
    Status s = writer_->Commit();
    writer_.reset();
    Unlock();
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

  void Abandon() {
    writer_.reset();  // an uncommitted block frees its bytes and reservation
    Unlock();
  }

  ReadEngine& engine_;
  BlobWork& work_;
  uint64_t offset_ = 0;
  std::optional<cache::Blob::Writer> writer_;
  std::optional<uint64_t> locked_;  // the block whose cross-process lock this stream holds
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
    } else {
      // Blocks whose workers joined this stream after it had passed them (present then, dropped
      // since as damaged) were not written: they are missing again, and whoever waits for them
      // queues them anew (readers on kMissing; strict completion once completion_priority < 0).
      bool left = false;
      for (uint64_t b = 0; b < work->blocks; ++b) {
        if (work->state[b] == BlobWork::kFetching || work->state[b] == BlobWork::kQueued) {
          work->state[b] = BlobWork::kMissing;
          work->queued_priority[b] = -1;
          left = true;
        }
      }
      if (left) {
        work->completion_priority = -1;
        work->progress++;
      }
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

}  // namespace hubfs::fs
