#include "hubfs/fs/document_cache.h"

#include <ctime>

#include "hubfs/core/logging.h"

namespace hubfs::fs {

CachedDocumentSource::CachedDocumentSource(net::HttpClient& http, cache::Cache& cache,
                                           int64_t ttl_seconds, Clock clock)
    : http_(http), cache_(cache), ttl_(ttl_seconds), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return static_cast<int64_t>(std::time(nullptr)); };
}

Result<hubs::DocumentSource::Document> CachedDocumentSource::Get(const std::string& url,
                                                                   const GetOptions& options) {
  const int64_t now = clock_();
  auto cached = cache_.GetDoc(url);
  if (!cached) HUBFS_LOG_WARN("metadata cache unreadable for {}: {}", url, cached.error().ToString());
  std::optional<cache::DocRecord> copy = cached ? *cached : std::nullopt;

  if (copy && !options.revalidate && now - copy->fetched_at < ttl_ && now >= copy->fetched_at) {
    return Document{copy->body, copy->fetched_at, false, ""};
  }

  net::HttpRequest request;
  request.url = url;
  if (copy && !copy->etag.empty()) request.headers.emplace_back("If-None-Match", copy->etag);
  if (copy && !copy->last_modified.empty()) {
    request.headers.emplace_back("If-Modified-Since", copy->last_modified);
  }
  auto response = http_.Fetch(request);
  if (!response) {
    if (copy) {
      return Document{copy->body, copy->fetched_at, true, response.error().message()};
    }
    return response.error();
  }
  cache::DocRecord record;
  if (response->status == 304 && copy) {
    record = std::move(*copy);
    // A 304 may carry updated validators; keep the newest.
    if (auto etag = response->Header("ETag")) record.etag = *etag;
    if (auto modified = response->Header("Last-Modified")) record.last_modified = *modified;
  } else {
    record.body = std::move(response->body);
    record.etag = response->Header("ETag").value_or("");
    record.last_modified = response->Header("Last-Modified").value_or("");
  }
  record.fetched_at = now;
  if (Status s = cache_.PutDoc(url, record); !s.ok()) {
    HUBFS_LOG_WARN("could not cache {}: {}", url, s.ToString());
  }
  return Document{std::move(record.body), now, false, ""};
}

}  // namespace hubfs::fs
