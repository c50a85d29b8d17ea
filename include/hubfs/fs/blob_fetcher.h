// BlobFetcher: cache-or-download for whole files, with verification and single flight.
//
// Get(object) returns an open blob from the cache. On a miss it downloads object.url once
// (concurrent callers for the same blob wait for that one download), hashing the bytes as they
// arrive and writing them to a temporary file. The blob is committed to the cache only when
//   - the size matches the published size (when the hub publishes one), and
//   - the sha256 matches the published digest (when the hub publishes one);
// otherwise nothing is cached and the caller gets kDataLoss naming the expected and actual
// values. A body that is a Git LFS pointer instead of the file is reported as such.
// Content without a published digest is keyed by URL and its digest pinned on first download.
//
// A failed download is remembered for Options::failure_memory: Gets in that window return the same
// error without a new request. The kernel retries a failed read at once, and without this each
// retry would download (and fail to verify) the whole file again.
//
// Limitations (the read-path issue replaces this with a block cache): a read waits for the whole
// file; one connection per file.
//
// Thread-safety: Get may be called from any thread; the in-flight map's lock is never held
// across network or disk I/O.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "hubfs/cache/cache.h"
#include "hubfs/hubs/hub.h"
#include "hubfs/net/http_client.h"

namespace hubfs::fs {

struct FetchCounters {
  std::atomic<uint64_t> cache_hits{0};
  std::atomic<uint64_t> downloads{0};
  std::atomic<uint64_t> downloaded_bytes{0};
  std::atomic<uint64_t> verify_failures{0};
};

class BlobFetcher {
 public:
  struct Options {
    std::chrono::milliseconds failure_memory{3000};
  };

  // `http` and `cache` must outlive the fetcher.
  BlobFetcher(net::HttpClient& http, cache::Cache& cache);
  BlobFetcher(net::HttpClient& http, cache::Cache& cache, Options options);

  Result<std::shared_ptr<cache::BlobFile>> Get(const hubs::RemoteObject& object);

  // The cache key a remote object is stored under.
  static std::string KeyFor(const hubs::RemoteObject& object);

  const FetchCounters& counters() const { return counters_; }

 private:
  using Shared = std::shared_future<Result<std::shared_ptr<cache::BlobFile>>>;
  Result<std::shared_ptr<cache::BlobFile>> Download(const hubs::RemoteObject& object,
                                                    const std::string& key);

  using SteadyTime = std::chrono::steady_clock::time_point;
  // Returns the remembered failure for `key`, if it is recent enough.
  std::optional<Status> RecentFailure(const std::string& key);

  net::HttpClient& http_;
  cache::Cache& cache_;
  Options options_;
  FetchCounters counters_;
  std::mutex mu_;
  std::map<std::string, Shared> in_flight_;                              // guarded by mu_
  std::map<std::string, std::pair<Status, SteadyTime>> recent_failures_;  // guarded by mu_
};

}  // namespace hubfs::fs
