// CacheImporter: fills the mount's cache from the hubs' own clients' caches (client_caches.h),
// on a thread of its own, so a mount is not delayed by hashing gigabytes.
//
// A pass (Schedule; the mount asks after listing the hubs, after `hubfs refresh` and after a
// listing that changed) scans the configured folders, matches their files against the listed
// files' sha256 (`wanted`, called on the importer's thread), and imports each blob that is not
// verified in the cache yet with cache::ImportBlob: hashed before it is trusted, copied block by
// block, never evicting anything, the source never modified. Requests made while a pass runs
// are folded into one more pass.
//
// A file that failed (its content is not what its name or place claims) is not hashed again by
// this daemon until its size or mtime changes.
//
// The destructor stops a running pass between two blocks and joins the thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hubfs/cache/cache.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::app {

// For /.hubfs/stats; owned by the daemon so the stats never outlive them.
struct ImportCounters {
  std::atomic<uint64_t> passes{0};          // passes finished
  std::atomic<uint64_t> files{0};           // blobs imported (verified from a local file)
  std::atomic<uint64_t> bytes{0};           // bytes copied into the cache
  std::atomic<uint64_t> rejected{0};        // files whose content did not match
  std::atomic<uint64_t> skipped_no_room{0}; // imports that did not fit without evicting
  std::atomic<bool> running{false};         // a pass is running now
};

// The counters as Prometheus text (appended to /.hubfs/stats).
std::string ImportStatsText(const ImportCounters& counters);

class CacheImporter {
 public:
  using Wanted = std::function<std::vector<hubs::RemoteObject>()>;
  // `cache` and `counters` must outlive the importer; `wanted` is called on its thread.
  CacheImporter(cache::Cache& cache, std::vector<std::string> dirs, Wanted wanted, ImportCounters& counters);
  ~CacheImporter();
  CacheImporter(const CacheImporter&) = delete;
  CacheImporter& operator=(const CacheImporter&) = delete;

  // Asks for a pass (soon, on the importer's thread).
  void Schedule();

 private:
  void Loop();
  void Pass();
  bool Stopping() const { return stopping_.load(std::memory_order_relaxed); }

  cache::Cache& cache_;
  const std::vector<std::string> dirs_;
  Wanted wanted_;
  ImportCounters& counters_;
  std::set<std::string> refused_;  // the importer thread's only: "<path>\n<size>\n<mtime>\n<sha>"
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;              // guarded by mu_
  std::atomic<bool> stopping_{false}; // also read between blocks, without mu_
  std::thread thread_;                // last: starts after everything above exists
};

}  // namespace hubfs::app
