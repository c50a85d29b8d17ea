// The low-level operation table: each callback calls fs::Filesystem and replies exactly once.
// Errors become errno through fs::ErrnoFor; no exception reaches libfuse.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

namespace hubfs::fuse {

// The table; userdata passed to fuse_session_new must be the fs::Filesystem*.
const fuse_lowlevel_ops& Operations();

}  // namespace hubfs::fuse
