// GitRepository: a remote git repository read through a local bare mirror.
//
// The MindSpore Hub has no listing API: its index is the git tree of mindspore/hub (HUB-PROTOCOLS.md
// §3.7). Hubs read such an index through this interface; LibGit2Repository (git_mirror.h) is
// the implementation, tests use fakes.
//
// Offline: Fetch fails when the remote cannot be reached, but everything fetched earlier stays
// readable, so a hub keeps listing from its last fetch (and says it is stale).
//
// Thread-safety: implementations allow calls from any thread; calls on one object may be
// serialised internally.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::net {

struct GitFile {
  std::string path;     // relative to the repository root, '/'-separated
  std::string blob_id;  // the blob's object id, hex
  uint64_t size = 0;
};

struct GitFetchResult {
  int64_t fetched_at = 0;  // seconds since the epoch of the last successful fetch (0: never)
  bool stale = false;      // this fetch failed; the data is from fetched_at
  std::string stale_reason;
};

class GitRepository {
 public:
  virtual ~GitRepository() = default;

  // Brings the local mirror up to date with the remote's branches, unless the last successful
  // fetch is younger than `max_age_seconds` (0: always fetch). An error only when the remote
  // failed and nothing was ever fetched.
  virtual Result<GitFetchResult> Fetch(int64_t max_age_seconds) = 0;

  // The commit id (hex) at the tip of `branch` in the mirror. kNotFound for an unknown branch.
  virtual Result<std::string> BranchTip(const std::string& branch) = 0;

  // Regular files below `prefix` (a folder path, "" for all) at the tip of `branch`, recursively,
  // in tree order.
  virtual Result<std::vector<GitFile>> ListFiles(const std::string& branch, const std::string& prefix) = 0;

  // The content of a blob. `max_bytes` bounds what is read (kResourceExhausted beyond it), since
  // repository content is untrusted.
  virtual Result<std::string> ReadBlob(const std::string& blob_id, uint64_t max_bytes) = 0;
};

}  // namespace hubfs::net
