// Which hubfs mount a path lies in, for the subcommands that take paths inside a mount.
#pragma once

#include <string>

#include "hubfs/core/result.h"

namespace hubfs::app {

// The mount point (absolute, resolved) of the hubfs mount holding `path` (symlinks resolved,
// so a link out of the mount counts where it points). NotFound when `path` does not exist,
// InvalidArgument "<path> is not in a hubfs mount" when the innermost mount holding it is of
// another type; other failures (e.g. ENOTCONN: the daemon died) carry strerror.
Result<std::string> HubfsMountOf(const std::string& path);

}  // namespace hubfs::app
