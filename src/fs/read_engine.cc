#include "hubfs/fs/read_engine.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "blob_work.h"
#include "hubfs/core/logging.h"

namespace hubfs::fs {

namespace read_engine_internal {

char* Scratch() {
  thread_local std::unique_ptr<char[]> buffer(new char[cache::kBlockSize]);
  return buffer.get();
}

Status ForListedFile(const Status& s) {
  if (s.code() == Code::kNotFound || s.code() == Code::kInvalidArgument) {
    return Status::Unavailable(s.message() + " (the hub lists this file)").WithHttpStatus(s.http_status());
  }
  return s;
}

}  // namespace read_engine_internal

using read_engine_internal::Clock;
using read_engine_internal::ForListedFile;
using read_engine_internal::Scratch;

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

}  // namespace hubfs::fs
