// The read engine's verification: the whole-file sha256 computed once, in order, as blocks land;
// strict rejection, lazy poisoning, and trust on first use for content without a published
// digest (read_engine.h).
#include <algorithm>
#include <ctime>

#include "blob_work.h"
#include "hubfs/core/logging.h"

namespace hubfs::fs {

using read_engine_internal::Clock;
using read_engine_internal::Scratch;

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

void ReadEngine::AdvanceHasher(const std::shared_ptr<BlobWork>& work) {
  {
    std::lock_guard lock(work->mu);
    if (work->hashing || work->verify != BlobWork::kUnverified) return;
    work->hashing = true;
    if (!work->sha) {
      work->sha = std::make_unique<Sha256>();
      if (work->object.git_blob_id) work->git = std::make_unique<GitBlobHasher>(*work->object.size);
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
    if (work->git) work->git->Update(data);
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
  std::optional<GitBlobId> git_id;
  if (work->git) git_id = work->git->Finish();
  FinishVerification(*work, work->sha->Finish(), git_id);
  {
    std::lock_guard lock(work->mu);
    work->hashing = false;
    work->sha.reset();
    work->git.reset();
  }
  work->cv.notify_all();
}

void ReadEngine::FinishVerification(BlobWork& work, const Digest& actual,
                                    const std::optional<GitBlobId>& git_id) {
  const auto& expected = work.expected;
  // A published git blob id is checked first; the sha256 then follows the usual rules (pinned on
  // the first download, compared with the pin afterwards).
  const bool git_ok = !work.object.git_blob_id || (git_id && *git_id == *work.object.git_blob_id);
  if (git_ok && (!expected || actual == *expected)) {
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
  const std::string why =
      !git_ok ? "GET " + work.object.url + ": git blob id mismatch: expected " + ToHex(*work.object.git_blob_id) +
                    ", got " + (git_id ? ToHex(*git_id) : std::string("none"))
              : "GET " + work.object.url + ": sha256 mismatch: expected " + ToHex(*expected) +
                    (work.object.sha256 ? std::string() : " (pinned on first download)") + ", got " +
                    ToHex(actual);
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
