// The hubfs subcommands. Each returns the process exit code and prints its own messages.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace hubfs::app {

struct MountArgs {
  std::string mountpoint;
  std::string config_path;  // empty: the default search (config.h)
  std::string cache_dir;    // overrides the configuration's
  std::vector<std::string> fuse_options;
  std::string cache_size;    // overrides cache_size, e.g. "20G"
  std::string verification;  // overrides verification for every hub: "strict" or "lazy"
  bool foreground = false;
  bool debug = false;
};

// Mounts and serves until unmounted. Without `foreground`, returns in the parent as soon as the
// mount is ready (0) or has failed (1, with the reason on stderr); the daemon keeps serving.
int RunMount(const MountArgs& args);

// Unmounts a hubfs mount point.
int RunUmount(const std::string& mountpoint);

// Pins (or unpins) the files at `paths`, which lie in a hubfs mount: pinned files are never
// evicted from the cache. Pinning does not download; `cat` or a future prefetch does.
int RunPin(const std::vector<std::string>& paths, bool pin);

// Asks running mounts (`mount`, or every hubfs mount when empty) to list `hubs` (every hub when
// empty) again now; returns 0 when all did, 1 when one failed, 2 when there is no such mount.
int RunRefresh(const std::vector<std::string>& hubs, const std::string& mount);

// Checks a MindSpore Hub asset file, or every asset .md below a folder (README.md and
// README_CN.md excepted), with the offline rules of the hub's md_validator. Prints
// "path:line: problem" lines and a summary to `out`. Returns 0 when every file passes, 1 when
// one fails, 2 when `path` does not exist (message on `err`).
int RunValidate(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace hubfs::app
