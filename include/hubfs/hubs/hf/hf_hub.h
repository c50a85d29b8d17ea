// HfHub: the Hugging Face Hub (or a server speaking its API) as folders (docs/hubs/huggingface.md).
//
//   /<hub>/<org>/<name>/…             a model repository at its default branch
//   /<hub>/<org>/<name>@<rev>/…       … at a branch, tag or commit ('/' in rev written %2F)
//   /<hub>/datasets/<org>/<name>/…    a dataset repository
//
// Configured repositories are listed; any other one appears when it is first looked up
// (Discover) and stays listed. A revision resolves to a commit (repo info API); files are
// listed with the recursive tree API at that commit (Link pagination) and served from
// resolve/<commit>/<path>, so a listing and its contents never disagree. LFS files carry their
// sha256, other files their git blob id.
//
// An existing Hugging Face cache (HfLocalCache) is used first: a ref younger than the metadata
// TTL (or a commit revision) with a complete tree cache lists without any request, and files
// whose blob it holds are read from it (file:// URLs, verified like downloads).
//
// Thread-safety: List and Discover may run concurrently; the hub's own state has a lock that is
// never held across a request.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hubfs/hubs/hf/hf_api.h"
#include "hubfs/hubs/hf/hf_local_cache.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::hubs::hf {

struct HfHubOptions {
  std::string name = "hf";                        // folder in the mount
  std::string endpoint = "https://huggingface.co"; // no trailing '/'
  std::vector<RepoRef> repos;                     // listed without being looked up
  std::string local_cache;                        // {HF_HUB_CACHE} to use; "" = none
  bool has_token = false;                         // for the wording of errors only
  int64_t metadata_ttl = 600;                     // seconds a local ref counts as current
  int64_t negative_ttl = 60;                      // seconds a missing repo is remembered
  size_t max_discovered = 1024;                   // repos and namespaces learned by lookups
  size_t max_tree_pages = 1000;                   // a bound on one repo's listing
};

class HfHub final : public Hub {
 public:
  using Clock = std::function<int64_t()>;  // seconds since the epoch
  // `documents` must outlive the hub.
  HfHub(HfHubOptions options, DocumentSource& documents, Clock clock = nullptr);

  const std::string& name() const override { return options_.name; }
  Result<Listing> List(const ListOptions& options) override;
  Result<bool> Discover(const std::vector<std::string>& folder, std::string_view name) override;

 private:
  struct RepoListing {
    std::vector<Entry> entries;  // relative to the repo's folder
    int64_t mtime = 0;
  };
  // One repository at its revision: the commit, then its files.
  Result<RepoListing> ListRepo(const RepoRef& repo, bool refresh);
  Result<std::string> ResolveCommit(const RepoRef& repo, bool refresh, int64_t* fetched_at);
  // The files of `repo` at `commit`: from the local cache's tree, else the server's pages.
  Result<std::vector<TreeEntry>> ListFiles(const RepoRef& repo, const std::string& commit, bool refresh,
                                           const std::optional<HfLocalCache::Snapshot>& snapshot);
  RepoListing MakeEntries(const RepoRef& repo, const std::string& commit, const std::vector<TreeEntry>& files,
                          const std::optional<HfLocalCache::Snapshot>& snapshot);
  // The folder of `repo` below the hub's folder: [datasets/]org/name[@rev].
  static std::vector<std::string> FolderOf(const RepoRef& repo);
  std::string Explain(const RepoRef& repo, const Status& status) const;

  HfHubOptions options_;
  DocumentSource& documents_;
  HfLocalCache local_;
  Clock clock_;

  std::mutex mu_;  // guards the members below; never held across a request
  std::set<RepoRef> discovered_;
  std::set<std::vector<std::string>> namespaces_;  // {org} or {"datasets", org}
  struct Miss {
    int64_t at = 0;  // when the server said so
    Status why;      // kNotFound: no such repo or revision; else the refusal (401/403)
  };
  std::map<RepoRef, Miss> missing_;                // remembered for negative_ttl
  std::map<RepoRef, RepoListing> last_good_;       // served when a repo cannot be listed now
};

}  // namespace hubfs::hubs::hf
