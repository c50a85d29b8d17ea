#include "stale_notes.h"

#include <utility>

namespace hubfs::app {

Result<hubs::DocumentSource::Document> NotingDocumentSource::Get(const std::string& url, const GetOptions& options) {
  auto doc = inner_.Get(url, options);
  if (doc && doc->stale) notes_.push_back({url, doc->fetched_at, doc->stale_reason});
  return doc;
}

std::vector<StaleNote> NotingDocumentSource::TakeNotes() { return std::exchange(notes_, {}); }

Result<net::GitFetchResult> NotingGitRepository::Fetch(int64_t max_age_seconds) {
  auto fetched = inner_->Fetch(max_age_seconds);
  if (fetched && fetched->stale) notes_.push_back({"git mirror", fetched->fetched_at, fetched->stale_reason});
  return fetched;
}

std::vector<StaleNote> NotingGitRepository::TakeNotes() { return std::exchange(notes_, {}); }

}  // namespace hubfs::app
