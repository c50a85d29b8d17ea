// RemoteSizes: the size (and validators) of remote files whose hub does not publish them
// (DIGITS stores, MindSpore assets), learned lazily with one HEAD request when a file is first
// looked up or opened, and remembered in the metadata cache for the metadata TTL, so `ls -l`
// after a remount asks nothing.
//
// A server that refuses HEAD (405/501) is asked for the first byte instead (Range: bytes=0-0)
// and the size read from Content-Range. A response without a usable length is an error: a size
// hubfs cannot know is never guessed (DIGITS itself requires Content-Length).
//
// Thread-safety: Get may be called from any thread; no lock is held across network I/O. Two
// threads asking for the same unknown URL at once may both ask the server.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "hubfs/cache/cache.h"
#include "hubfs/core/result.h"
#include "hubfs/net/http_client.h"

namespace hubfs::fs {

struct RemoteSize {
  uint64_t size = 0;
  std::string etag;           // as the server sent it; empty when none
  std::string last_modified;  // likewise
  int64_t checked_at = 0;     // seconds since the epoch
};

class RemoteSizes {
 public:
  using Clock = std::function<int64_t()>;  // seconds since the epoch
  // `http` and `cache` must outlive this object.
  RemoteSizes(net::HttpClient& http, cache::Cache& cache, int64_t ttl_seconds, Clock clock = nullptr);

  // The size of `url`: remembered when younger than the TTL, else asked; when the server fails,
  // a remembered size of any age.
  Result<RemoteSize> Get(const std::string& url);
  // Forget what is remembered in memory (hubfs refresh); the next Get asks the server.
  void Expire();
  // What `cache` remembers of `url`'s size, of any age, without asking anyone (hubfs ls and
  // hubfs info without a mount); nullopt when nothing or an absence is remembered.
  static std::optional<RemoteSize> Remembered(cache::Cache& cache, const std::string& url);

 private:
  Result<RemoteSize> Ask(const std::string& url);

  net::HttpClient& http_;
  cache::Cache& cache_;
  int64_t ttl_;
  Clock clock_;
  std::mutex mu_;
  std::map<std::string, RemoteSize> known_;  // guarded by mu_
  int64_t expired_before_ = 0;               // guarded by mu_: entries checked earlier are stale
};

}  // namespace hubfs::fs
