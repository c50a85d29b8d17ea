// The network half of LibGit2Repository::Fetch, private to src/net/git/.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "hubfs/core/status.h"

namespace hubfs::net::git {

// The URL as it may appear in messages: without "user:password@".
std::string RedactUrl(const std::string& url);

// Fetches `branches` of `url` into the bare repository at `mirror_dir`, through its own
// repository handle (so readers of the mirror are never blocked), with the refspecs
// `+refs/heads/B:refs/heads/B`, no tags, no pruning, no FETCH_HEAD. Proxies come from the
// environment (libgit2's GIT_PROXY_AUTO). Each ref is updated atomically after the objects it
// needs are on disk. A configured branch the remote lacks is not an error: its ref is left as
// it was.
// Errors: kDeadlineExceeded when `deadline` passed first; otherwise as GitStatus maps them
// (mostly kUnavailable, kNotFound for a missing local repository), with "fetch <url>" context.
// The caller must hold the mirror's lock.
Status FetchBranches(const std::string& mirror_dir, const std::string& url,
                     const std::vector<std::string>& branches,
                     std::chrono::steady_clock::time_point deadline);

}  // namespace hubfs::net::git
