// CachedDocumentSource: hub documents (manifests, listings) through the persistent cache.
//
//   fresh copy (younger than ttl)  -> served with no request at all
//   older copy                     -> revalidated with If-None-Match / If-Modified-Since
//   server fails, copy exists      -> the copy, marked stale with the reason
//   server fails, no copy          -> the server's error
//   404 / 410                      -> kNotFound, remembered for ttl like a document (listings
//                                     probe optional documents, e.g. DIGITS aux.json); a copy
//                                     older than the 404 is no longer served
//
// Thread-safety: Get may be called from any thread; no lock is held across network I/O.
#pragma once

#include <cstdint>
#include <functional>

#include "hubfs/cache/cache.h"
#include "hubfs/hubs/hub.h"
#include "hubfs/net/http_client.h"

namespace hubfs::fs {

class CachedDocumentSource final : public hubs::DocumentSource {
 public:
  using Clock = std::function<int64_t()>;  // seconds since the epoch
  // `http` and `cache` must outlive this object.
  CachedDocumentSource(net::HttpClient& http, cache::Cache& cache, int64_t ttl_seconds,
                       Clock clock = nullptr);

  using DocumentSource::Get;
  Result<Document> Get(const std::string& url, const GetOptions& options) override;

 private:
  net::HttpClient& http_;
  cache::Cache& cache_;
  int64_t ttl_;
  Clock clock_;
};

}  // namespace hubfs::fs
