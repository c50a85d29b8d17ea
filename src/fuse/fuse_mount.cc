#include "hubfs/fuse/fuse_mount.h"

#include <algorithm>
#include <cerrno>

#include "fuse_ops.h"
#include "hubfs/core/logging.h"

namespace hubfs::fuse {

// Owns the libfuse session; tears down in reverse order of set-up.
struct FuseMount::Session {
  fuse_session* se = nullptr;
  bool signals = false;
  bool mounted = false;
  unsigned max_threads = 16;
  ~Session() {
    if (signals) fuse_remove_signal_handlers(se);
    if (mounted) fuse_session_unmount(se);
    if (se) fuse_session_destroy(se);
  }
};

FuseMount::FuseMount(std::unique_ptr<Session> session) : session_(std::move(session)) {}
FuseMount::~FuseMount() = default;

Result<std::unique_ptr<FuseMount>> FuseMount::Mount(fs::Filesystem& fs, const MountOptions& options) {
  // hubfs checks no permissions itself, so the kernel checks the mode bits (files 0444, folders
  // 0555): with allow_other, every user may read and nobody may write.
  std::string opts = "ro,default_permissions,fsname=hubfs,subtype=hubfs";
  for (const auto& o : options.fuse_options) opts += "," + o;
  std::vector<std::string> argv_storage = {"hubfs", "-o", opts};
  if (options.debug) argv_storage.push_back("-d");
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());

  auto session = std::make_unique<Session>();
  session->max_threads = options.max_threads;
  session->se = fuse_session_new(&args, &Operations(), sizeof(fuse_lowlevel_ops), &fs);
  fuse_opt_free_args(&args);  // the session keeps its own copies
  if (!session->se) {
    return Status::InvalidArgument("libfuse rejected the mount options '" + opts + "'");
  }
  if (fuse_set_signal_handlers(session->se) != 0) {
    return Status::Internal("cannot install signal handlers");
  }
  session->signals = true;
  if (fuse_session_mount(session->se, options.mountpoint.c_str()) != 0) {
    return Status::Unavailable("cannot mount at " + options.mountpoint +
                               " (libfuse printed the reason above)");
  }
  session->mounted = true;
  return std::unique_ptr<FuseMount>(new FuseMount(std::move(session)));
}

Status FuseMount::Serve() {
  fuse_loop_config* config = fuse_loop_cfg_create();
  fuse_loop_cfg_set_clone_fd(config, 0);
  fuse_loop_cfg_set_max_threads(config, session_->max_threads);
  fuse_loop_cfg_set_idle_threads(config, std::min(8u, session_->max_threads));
  int rc = fuse_session_loop_mt(session_->se, config);
  fuse_loop_cfg_destroy(config);
  if (rc < 0) return Status::Internal("FUSE request loop failed: error " + std::to_string(-rc));
  return Status();
}

void FuseMount::Invalidate(const fs::RefreshResult& refresh) {
  fuse_session* se = session_->se;
  // -ENOENT means the kernel does not hold that name or inode: nothing to forget.
  for (const auto& [parent, name] : refresh.changes.entries) {
    int rc = fuse_lowlevel_notify_inval_entry(se, parent, name.c_str(), name.size());
    if (rc != 0 && rc != -ENOENT) HUBFS_LOG_DEBUG("invalidating entry {} in {}: error {}", name, parent, rc);
  }
  for (fs::NodeId folder : refresh.changes.folders) {
    int rc = fuse_lowlevel_notify_inval_inode(se, folder, 0, 0);
    if (rc != 0 && rc != -ENOENT) HUBFS_LOG_DEBUG("invalidating folder {}: error {}", folder, rc);
  }
  for (fs::NodeId file : refresh.unsized) {
    // Attributes only (offset -1): cached pages of a file whose content is pinned stay valid.
    int rc = fuse_lowlevel_notify_inval_inode(se, file, -1, 0);
    if (rc != 0 && rc != -ENOENT) HUBFS_LOG_DEBUG("invalidating file {}: error {}", file, rc);
  }
}

}  // namespace hubfs::fuse
