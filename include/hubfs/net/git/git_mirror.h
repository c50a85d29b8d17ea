// LibGit2Repository: GitRepository backed by a local bare mirror that libgit2 fetches into.
//
// The mirror is a bare repository in GitMirrorOptions::mirror_dir, created on first use. Fetch
// copies only the configured branches (`+refs/heads/B:refs/heads/B`, full history, no tags).
// Besides the git files, mirror_dir holds two files of hubfs':
//   hubfs-fetched-at   seconds since the epoch of the last successful fetch (shared by all
//                      processes, survives restarts; Fetch(max_age) compares against it)
//   hubfs-fetch.lock   an exclusive flock() held while a process creates or fetches the mirror
//
// Timeouts: one Fetch takes at most `timeout` of network time, whatever the server does
// (connect, a stalled response, a slow trickle). Waiting for another process' fetch lock is
// bounded by `timeout` too. Name resolution (getaddrinfo) is bounded only by the system
// resolver's own timeouts. See docs/hubs/git-mirror.md.
//
// Staleness: a failed fetch with data from an earlier fetch is not an error: Fetch returns
// stale = true, the reason and the time of that earlier fetch, and the reads keep working.
//
// Untrusted content: ListFiles returns regular files only (modes 100644/100755; symlinks,
// submodules and anything else are skipped) with paths exactly as stored in the trees, so
// callers must validate each path (e.g. SplitSafePath) before using it. Trees deeper than
// kMaxTreeDepth or listings longer than kMaxListedFiles fail with kResourceExhausted, and
// ReadBlob refuses blobs larger than its max_bytes before reading them.
//
// Thread-safety: every method may be called from any thread. Reads share one libgit2 handle
// under a mutex; a Fetch uses its own handle, so reads are never blocked by the network.
// Concurrent Fetch calls in one process are single-flighted: a caller that waited for another
// caller's attempt gets that attempt's result.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "hubfs/core/result.h"
#include "hubfs/net/git/git_repository.h"

namespace hubfs::net {

struct GitMirrorOptions {
  std::string url;         // http(s)://, git://, file:// or a local path
  std::string mirror_dir;  // the bare mirror; created (with its parents) when missing
  std::vector<std::string> branches;  // branch names (without refs/heads/) to mirror
  // Upper bound for one Fetch: connecting, negotiating and downloading together.
  std::chrono::milliseconds timeout{30000};
};

class LibGit2Repository final : public GitRepository {
 public:
  static constexpr size_t kMaxTreeDepth = 64;
  static constexpr size_t kMaxListedFiles = 1'000'000;

  // Creates the mirror folder and an empty bare repository when missing, and opens it. No
  // network access. kInvalidArgument for an empty url, mirror_dir or branch list, or an invalid
  // branch name; kIoError/kInternal when the folder or repository cannot be created or opened.
  static Result<std::unique_ptr<LibGit2Repository>> Open(GitMirrorOptions options);

  ~LibGit2Repository() override;
  LibGit2Repository(const LibGit2Repository&) = delete;
  LibGit2Repository& operator=(const LibGit2Repository&) = delete;

  Result<GitFetchResult> Fetch(int64_t max_age_seconds) override;
  Result<std::string> BranchTip(const std::string& branch) override;
  Result<std::vector<GitFile>> ListFiles(const std::string& branch,
                                         const std::string& prefix) override;
  Result<std::string> ReadBlob(const std::string& blob_id, uint64_t max_bytes) override;

  const GitMirrorOptions& options() const { return options_; }

 private:
  struct ReadHandle;  // the libgit2 repository the reads use (git2 types stay in src/net/git/)
  struct FetchAttempt {
    std::chrono::steady_clock::time_point finished;
    Result<GitFetchResult> result;
  };

  LibGit2Repository(GitMirrorOptions options, std::unique_ptr<ReadHandle> reader);

  // Fetch with fetch_mutex_ held and the cross-process lock not yet taken.
  Result<GitFetchResult> FetchLocked(int64_t max_age_seconds);
  // The outcome when the remote could not be fetched: stale data or, without any, `error`.
  Result<GitFetchResult> StaleOrError(const Status& error);
  // True when the mirror holds at least one configured branch.
  bool HasAnyBranch();

  const GitMirrorOptions options_;

  std::mutex read_mutex_;  // guards reader_ (libgit2 handles are not thread-safe)
  std::unique_ptr<ReadHandle> reader_;

  std::mutex fetch_mutex_;                    // one Fetch at a time in this process
  std::optional<FetchAttempt> last_attempt_;  // guarded by fetch_mutex_
};

}  // namespace hubfs::net
