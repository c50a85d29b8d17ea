// What `hubfs prefetch PATH...` will read: the files with remote content at or below the given
// paths, each once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::app {

struct PrefetchFile {
  std::string path;       // as given, or a given folder joined with the names below it
  uint64_t size = 0;      // st_size (0 when the hub did not publish it and no HEAD told yet)
  std::string cache_dir;  // user.hubfs.cache_dir
  std::string cache_key;  // user.hubfs.cache_key: the same blob seen through two paths has one
};

struct PrefetchPlan {
  std::vector<PrefetchFile> files;  // in argument order, folders walked in name order
  // Paths below a given folder that could not be listed or inspected, with the reason: they
  // count as failed files.
  std::vector<std::pair<std::string, Status>> problems;
};

// Walks `paths`. A file must have remote content (generated files such as info.json are left
// out, silently); a folder contributes every such file below it, recursively, without following
// symlinks. A file reached twice (a symlink, the tree/ mirror of a model folder) is listed once,
// at its first path. Usage errors fail the whole plan: a path that does not exist (NotFound) or
// is not inside a hubfs mount (InvalidArgument).
Result<PrefetchPlan> PlanPrefetch(const std::vector<std::string>& paths);

}  // namespace hubfs::app
