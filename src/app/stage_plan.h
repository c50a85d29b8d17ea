// What `hubfs stage PATH...` will copy, and where to (docs/staging.md): the model files at or
// below the given paths of a mount, each to <framework>/<name> below the staging folder, <name>
// being its name in the mount's /by-framework/<framework>/ folder.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::app {

struct StageFile {
  std::string source;  // the file in the mount (symlinks resolved)
  std::string shown;   // the same as the user named it: a path given, or below a folder given
  std::string target;  // below the staging folder: "<framework>/<name>", or deeper for the
                       // members of an archive's unpacked folder
  std::string mount;   // the mount point holding `source`
  uint64_t size = 0;   // st_size when planned
};

struct StagePlan {
  std::vector<StageFile> files;  // in argument order, folders walked in name order
  // Paths below a given folder that could not be listed or placed, with the reason: they count
  // as failed files.
  std::vector<std::pair<std::string, Status>> problems;
  size_t not_models = 0;  // files below given hub folders that are no models (info.json, test data)
};

// Walks `paths`:
//   - below /by-framework/ (or the folder itself): every regular file, at its place there;
//   - elsewhere in a mount: the files with a user.hubfs.framework attribute (model files; a file
//     named explicitly must be one), each placed under its name in /by-framework/<framework>/,
//     found by its cache key (the names of collisions; docs/staging.md); without that folder
//     (by_framework = false) under its own name;
//   - an archive model brings its unpacked folder from /by-framework/ along (uncompressed).
// Symlinks are followed for the paths given, not below them. A target reached twice is planned
// once. Usage errors fail the whole plan: a path that does not exist (NotFound) or is not in a
// hubfs mount (InvalidArgument).
Result<StagePlan> PlanStage(const std::vector<std::string>& paths);

// Where a name found in /by-framework/<framework>/ may stand for a file called `name` in its hub:
// the name itself, then the renamed forms (fs/framework_view.h) listed in `folder_names`, in
// order.
std::vector<std::string> ViewNameCandidates(const std::string& name, const std::vector<std::string>& folder_names);

}  // namespace hubfs::app
