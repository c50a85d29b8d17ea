// HfLocalCache: a read-only view of an existing Hugging Face cache ({HF_HUB_CACHE}, normally
// ~/.cache/huggingface/hub), in the layout huggingface_hub writes (docs/hubs/huggingface.md):
//
//   models--{org}--{name}/refs/{revision}          the commit a branch or tag pointed at
//   models--{org}--{name}/snapshots/{commit}/…     symlinks to ../../blobs/{etag} (or copies)
//   models--{org}--{name}/blobs/{etag}             content; etag = sha256 (LFS) or git blob id
//   models--{org}--{name}/.no_exist/{commit}/…     "this path does not exist at that commit"
//   models--{org}--{name}/trees/{commit}.json      the full file list of that commit (v1.25+)
//
// hubfs never writes there. Nothing read here is trusted: files are served only as downloads
// that the read engine verifies like any other, and a snapshot entry is used only when it
// resolves to a file inside the repo's own folder.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hubfs/hubs/hf/hf_api.h"

namespace hubfs::hubs::hf {

class HfLocalCache {
 public:
  explicit HfLocalCache(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  struct Ref {
    std::string commit;
    int64_t mtime = 0;  // when the client last wrote it: when the server last said so
  };
  // The commit `repo`'s revision ("" = "main") points at, from refs/. A commit id is itself when
  // its snapshot folder exists. nullopt when the cache does not know.
  std::optional<Ref> Resolve(const RepoRef& repo) const;

  struct Snapshot {
    // Every file of the commit (trees/{commit}.json) when `complete`, else the snapshot's files.
    std::vector<TreeEntry> files;
    bool complete = false;
    // Repo path -> absolute path of a regular file holding its content (verified later).
    std::map<std::string, std::string> local;
    std::set<std::string> absent;  // .no_exist entries
  };
  // What the cache holds of `repo` at `commit`; nullopt when it holds nothing.
  std::optional<Snapshot> Read(const RepoRef& repo, const std::string& commit) const;

  // The absolute path of the blob named `etag` (64-hex sha256 or 40-hex git blob id) of `repo`,
  // when that file exists. Lets files listed by the server come from the local cache.
  std::optional<std::string> Blob(const RepoRef& repo, const std::string& etag) const;

 private:
  std::string RepoFolder(const RepoRef& repo) const;
  std::string root_;
};

}  // namespace hubfs::hubs::hf
