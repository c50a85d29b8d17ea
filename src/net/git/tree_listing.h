// Listing the regular files of a git tree, private to src/net/git/.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "hubfs/core/status.h"
#include "hubfs/net/git/git_repository.h"
#include "net/git/git_handles.h"

namespace hubfs::net::git {

struct TreeLimits {
  size_t max_depth;  // folders below `root`; deeper nesting fails with kResourceExhausted
  size_t max_files;  // listed files; more fail with kResourceExhausted
};

// Appends the regular files (modes 100644 and 100755 that name a blob) below `root` to `out`
// in tree order: each folder's entries in their stored order, a subfolder's files where the
// subfolder appears. Symlinks, submodules and entries whose object is not a blob are skipped.
// `base` ("" or "a/b/") is prepended to every path. Sizes come from object headers, so blobs
// are not inflated. Iterative, so a hostile deep tree cannot exhaust the stack.
Status ListRegularFiles(git_repository* repo, TreePtr root, const std::string& base,
                        const TreeLimits& limits, std::vector<GitFile>* out);

}  // namespace hubfs::net::git
