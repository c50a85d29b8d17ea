#include "hubfs/fs/document_cache.h"

#include <ctime>

#include "hubfs/core/logging.h"

namespace hubfs::fs {
namespace {

// "The server answered 404 for this URL at fetched_at", stored beside the documents under a key
// no URL can have.
std::string AbsentKey(const std::string& url) { return "absent " + url; }

}  // namespace

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
  auto absent_record = cache_.GetDoc(AbsentKey(url));
  std::optional<cache::DocRecord> absent = absent_record ? *absent_record : std::nullopt;
  // The newer of the two answers counts: a copy, or "the server said 404".
  if (absent && copy && copy->fetched_at >= absent->fetched_at) absent.reset();
  auto fresh = [&](const cache::DocRecord& r) { return now >= r.fetched_at && now - r.fetched_at < ttl_; };

  if (!options.revalidate && absent && fresh(*absent)) {
    return Status::NotFound("GET " + url + ": HTTP 404 (remembered)").WithHttpStatus(404);
  }
  if (!options.revalidate && !absent && copy && fresh(*copy)) {
    return Document{copy->body, copy->fetched_at, false, "", copy->link};
  }

  net::HttpRequest request;
  request.url = url;
  if (copy && !copy->etag.empty()) request.headers.emplace_back("If-None-Match", copy->etag);
  if (copy && !copy->last_modified.empty()) {
    request.headers.emplace_back("If-Modified-Since", copy->last_modified);
  }
  auto response = http_.Fetch(request);
  if (!response && response.error().IsNotFound()) {
    // The server's answer, not a failure: remember it for the TTL like a document, so listings
    // that probe optional documents (aux.json) do not ask again at every mount.
    cache::DocRecord gone;
    gone.fetched_at = now;
    if (Status s = cache_.PutDoc(AbsentKey(url), gone); !s.ok()) {
      HUBFS_LOG_WARN("could not remember that {} is absent: {}", url, s.ToString());
    }
    return response.error();
  }
  if (!response) {
    if (copy) {
      return Document{copy->body, copy->fetched_at, true, response.error().message(), copy->link};
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
    record.link = response->Header("Link").value_or("");
  }
  record.fetched_at = now;
  if (Status s = cache_.PutDoc(url, record); !s.ok()) {
    HUBFS_LOG_WARN("could not cache {}: {}", url, s.ToString());
  }
  return Document{std::move(record.body), now, false, "", std::move(record.link)};
}

}  // namespace hubfs::fs
