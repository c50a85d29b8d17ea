// FuseMount: a libfuse3 low-level session serving a fs::Filesystem at a mount point.
// This folder is the only code that includes fuse_lowlevel.h.
//
// Lifetime: Mount() mounts (the mount is visible when it returns OK); Serve() runs the
// multi-threaded request loop until the filesystem is unmounted or SIGINT/SIGTERM/SIGHUP
// arrives; the destructor unmounts if still mounted and frees the session.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "hubfs/core/result.h"
#include "hubfs/fs/filesystem.h"

namespace hubfs::fuse {

struct MountOptions {
  std::string mountpoint;
  // Extra "-o" options, e.g. "allow_other". hubfs always adds ro, default_permissions, fsname
  // and subtype.
  std::vector<std::string> fuse_options;
  unsigned max_threads = 16;  // worker threads of the request loop
  bool debug = false;         // libfuse's request trace on stderr
};

class FuseMount {
 public:
  // `fs` must outlive the mount.
  static Result<std::unique_ptr<FuseMount>> Mount(fs::Filesystem& fs, const MountOptions& options);
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  // Runs until unmounted or signalled. Returns an error if the loop failed.
  Status Serve();

  // Tells the kernel to forget what a refresh changed: the names (so lookups ask again, also for
  // names it remembered as absent), the folders' listings and attributes, and the attributes of
  // files whose sizes may have changed. Call from outside FUSE request handlers, while serving.
  void Invalidate(const fs::RefreshResult& refresh);

 private:
  struct Session;
  explicit FuseMount(std::unique_ptr<Session> session);
  std::unique_ptr<Session> session_;
};

}  // namespace hubfs::fuse
