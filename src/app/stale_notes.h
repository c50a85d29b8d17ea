// Decorators that remember when a hub's index came from an old copy because its server could
// not be asked (a stale document, a failed git fetch), so `hubfs ls` can say so on stderr.
// Everything else is passed through unchanged.
//
// Thread-safety: as the wrapped object; notes are taken from the calling thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hubfs/hubs/hub.h"
#include "hubfs/net/git/git_repository.h"

namespace hubfs::app {

struct StaleNote {
  std::string what;        // the document's URL, or "git mirror"
  int64_t fetched_at = 0;  // when the copy in use was fetched
  std::string reason;      // why the server could not be asked
};

class NotingDocumentSource final : public hubs::DocumentSource {
 public:
  explicit NotingDocumentSource(hubs::DocumentSource& inner) : inner_(inner) {}
  using DocumentSource::Get;
  Result<Document> Get(const std::string& url, const GetOptions& options) override;
  // The notes since the last call.
  std::vector<StaleNote> TakeNotes();

 private:
  hubs::DocumentSource& inner_;
  std::vector<StaleNote> notes_;
};

class NotingGitRepository final : public net::GitRepository {
 public:
  // Takes ownership of `inner`.
  explicit NotingGitRepository(std::unique_ptr<net::GitRepository> inner) : inner_(std::move(inner)) {}
  Result<net::GitFetchResult> Fetch(int64_t max_age_seconds) override;
  Result<std::string> BranchTip(const std::string& branch) override { return inner_->BranchTip(branch); }
  Result<std::vector<net::GitFile>> ListFiles(const std::string& branch, const std::string& prefix) override {
    return inner_->ListFiles(branch, prefix);
  }
  Result<std::string> ReadBlob(const std::string& blob_id, uint64_t max_bytes) override {
    return inner_->ReadBlob(blob_id, max_bytes);
  }
  std::vector<StaleNote> TakeNotes();

 private:
  std::unique_ptr<net::GitRepository> inner_;
  std::vector<StaleNote> notes_;
};

}  // namespace hubfs::app
