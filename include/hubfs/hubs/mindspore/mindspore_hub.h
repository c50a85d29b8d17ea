// MindSporeHub: the MindSpore Hub (gitee mindspore/hub), whose index is a git tree of markdown
// asset files (HUB-PROTOCOLS.md §3; folders as in mindspore_layout.h; docs/hubs/mindspore.md).
// The tree is read through a GitRepository mirror; the weight files are downloaded from each
// asset's asset-link by the fs layer and verified against its asset-sha256.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hubfs/hubs/hub.h"
#include "hubfs/net/git/git_repository.h"

namespace hubfs::hubs::mindspore {

struct MindSporeHubOptions {
  std::string name;  // folder in the mount
  std::string git_url = "https://gitee.com/mindspore/hub.git";  // what the mirror fetches
  // Branches shown, in priority order: a model folder on several branches comes from the first.
  std::vector<std::string> branches = {"master"};
  int64_t metadata_ttl = 600;  // seconds a fetch stays fresh before List fetches again
};

class MindSporeHub final : public Hub {
 public:
  // `repository` must outlive the hub; it mirrors `options.git_url`.
  MindSporeHub(MindSporeHubOptions options, net::GitRepository& repository);

  const std::string& name() const override { return options_.name; }
  // Fetches (unless the mirror is younger than metadata_ttl; always with options.refresh), then
  // lists every configured branch. Unusable files are skipped with one warning each; an error
  // only when the mirror has never been fetched or no branch could be listed.
  Result<Listing> List(const ListOptions& options) override;

 private:
  MindSporeHubOptions options_;
  net::GitRepository& repository_;
  bool stale_logged_ = false;  // the current stale episode was logged
};

}  // namespace hubfs::hubs::mindspore
