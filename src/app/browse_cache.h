// Which cache folder the commands that read hubs without a mount (`hubfs ls`, `hubfs search`,
// `hubfs info HUB/PATH`) use for listings. Private to src/app/.
#pragma once

#include <string>

#include "hubfs/core/result.h"

namespace hubfs::app {

// The configured cache_dir when it belongs to this user (created 0700, with its parents, when
// missing); otherwise this user's default folder (DefaultCacheDir: $XDG_CACHE_HOME/hubfs, else
// ~/.cache/hubfs), prepared as a mount prepares its cache (cache_dir.h), with `*note` saying
// which folder is used and why. Never another user's folder: a system mount's cache is root's
// and private (0700, /etc/hubfs/config.toml), and index files a command created in another
// user's cache would belong to the wrong user. An error, naming both folders, when neither can
// be used. `*note` is empty when the configured folder is used.
Result<std::string> BrowseCacheDir(const std::string& configured, std::string* note);

}  // namespace hubfs::app
