// Pinning one file of a hubfs mount, for `hubfs pin`/`unpin` and `hubfs prefetch --pin`.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "hubfs/cache/cache.h"
#include "hubfs/core/status.h"

namespace hubfs::app {

// Caches opened so far, by folder: one Cache per folder and process (LMDB wants that).
using OpenCaches = std::map<std::string, std::unique_ptr<cache::Cache>>;

// Pins (or unpins) the file at `path`, which lies in a hubfs mount: its xattrs name the cache
// and blob, and the blob's pinned flag is set in that cache's index, which the daemon shares.
// A file never read gets its record created first, so the pin comes before the download.
// Fails (nothing changed) when `path` is not a file with remote content, or its size is not
// known yet. Not thread-safe: `caches` is used without a lock.
Status PinFile(const std::string& path, bool pin, OpenCaches* caches);

}  // namespace hubfs::app
