// The cache folder of a mount is private to the daemon's user (docs/operations.md, "Cache
// location and permissions"): other users read models through the mount, never from the cache,
// and must not be able to plant or alter cached files (their blocks are served as verified).
#pragma once

#include <string>

#include "hubfs/core/status.h"

namespace hubfs::app {

// Creates `dir` with its missing parents and mode 0700, or checks an existing one:
//  - it must be a folder owned by the effective user (else an error saying whose it is);
//  - group- or world-writable is refused (its content cannot be trusted; the message says how
//    to check and fix it);
//  - group- or world-readable/searchable is fixed to 0700, and `*note` says so.
// `*note` is empty when nothing was changed on an existing folder.
Status PrepareCacheDir(const std::string& dir, std::string* note);

}  // namespace hubfs::app
