// ReadEngine::BlobWork, the per-blob state that every reader of one blob shares in this process,
// and the helpers the read engine's source files share:
//   read_engine.cc         opening, reading, scheduling, waiting
//   read_engine_fetch.cc   the workers: ranged GETs, whole-file GETs, uncached blocks
//   read_engine_verify.cc  the whole-file sha256, trust on first use
// Private to src/fs/.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hubfs/core/git_blob_id.h"
#include "hubfs/core/sha256.h"
#include "hubfs/fs/read_engine.h"

namespace hubfs::fs {
namespace read_engine_internal {

using Clock = std::chrono::steady_clock;

// A 2 MiB buffer per thread for reading whole blocks back (to check or hash them). Threads are
// the engine's workers and the FUSE loop's, so memory is bounded by their number.
char* Scratch();

// A file the hub lists answering 404 (or another 4xx than 401/403/429) is the hub's
// inconsistency: an I/O error for the reader, never ENOENT/EINVAL on a file `ls` just showed.
Status ForListedFile(const Status& s);

}  // namespace read_engine_internal

struct ReadEngine::BlobWork {
  using Clock = read_engine_internal::Clock;

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
  std::unique_ptr<GitBlobHasher> git;  // beside `sha` while the object has a git blob id to check

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

}  // namespace hubfs::fs
