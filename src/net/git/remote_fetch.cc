#include "net/git/remote_fetch.h"

#include <fmt/format.h>
#include <git2.h>

#include "net/git/git_errors.h"
#include "net/git/git_handles.h"
#include "net/git/timed_socket_stream.h"

namespace hubfs::net::git {
namespace {

using Clock = std::chrono::steady_clock;

// What the progress callbacks need: they run while data arrives and cancel a transfer that is
// still going at the deadline (a trickle that never stalls long enough for the socket timeout
// to fire is caught here).
struct FetchProgress {
  Clock::time_point deadline;
  bool timed_out = false;

  int Check() {
    if (Clock::now() < deadline) return 0;
    timed_out = true;
    git_error_set_str(GIT_ERROR_NET, "transfer cancelled at the deadline");
    return -1;
  }
};

int OnTransferProgress(const git_indexer_progress* /*stats*/, void* payload) {
  return static_cast<FetchProgress*>(payload)->Check();
}

int OnSidebandProgress(const char* /*text*/, int /*len*/, void* payload) {
  return static_cast<FetchProgress*>(payload)->Check();
}

}  // namespace

std::string RedactUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t host = scheme + 3;
  const size_t at = url.find('@', host);
  const size_t path = url.find('/', host);
  if (at == std::string::npos || (path != std::string::npos && at > path)) return url;
  return url.substr(0, host) + url.substr(at + 1);
}

Status FetchBranches(const std::string& mirror_dir, const std::string& url,
                     const std::vector<std::string>& branches, Clock::time_point deadline) {
  const std::string context = fmt::format("fetch {}", RedactUrl(url));

  git_repository* raw_repo = nullptr;
  if (int rc = git_repository_open_bare(&raw_repo, mirror_dir.c_str()); rc < 0) {
    return GitStatus(rc, fmt::format("{}: open mirror {}", context, mirror_dir));
  }
  RepositoryPtr repo(raw_repo);

  // Anonymous (nothing written to the mirror's config) and without url.*.insteadOf rewriting:
  // the URL is used as configured. (Skipping insteadOf also avoids a pcre2 match-data leak of
  // libgit2 1.5 in that lookup, libgit2 PR #6382.)
  git_remote_create_options create;
  if (int rc = git_remote_create_options_init(&create, GIT_REMOTE_CREATE_OPTIONS_VERSION);
      rc < 0) {
    return GitStatus(rc, context);
  }
  create.repository = repo.get();
  create.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
  git_remote* raw_remote = nullptr;
  if (int rc = git_remote_create_with_opts(&raw_remote, url.c_str(), &create); rc < 0) {
    return GitStatus(rc, context);
  }
  RemotePtr remote(raw_remote);

  std::vector<std::string> refspecs;
  std::vector<char*> refspec_ptrs;
  refspecs.reserve(branches.size());
  for (const std::string& branch : branches) {
    refspecs.push_back(fmt::format("+refs/heads/{0}:refs/heads/{0}", branch));
  }
  for (std::string& spec : refspecs) refspec_ptrs.push_back(spec.data());
  const git_strarray specs{refspec_ptrs.data(), refspec_ptrs.size()};

  FetchProgress progress{deadline};
  git_fetch_options options;
  if (int rc = git_fetch_options_init(&options, GIT_FETCH_OPTIONS_VERSION); rc < 0) {
    return GitStatus(rc, context);
  }
  options.callbacks.transfer_progress = OnTransferProgress;
  options.callbacks.sideband_progress = OnSidebandProgress;
  options.callbacks.payload = &progress;
  options.prune = GIT_FETCH_NO_PRUNE;
  options.update_fetchhead = 0;
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
  options.proxy_opts.type = GIT_PROXY_AUTO;

  const NetworkDeadline io_deadline(deadline);
  const int rc = git_remote_fetch(remote.get(), &specs, &options, "hubfs: fetch");
  if (rc < 0) {
    if (progress.timed_out || io_deadline.expired() || Clock::now() >= deadline) {
      const git_error* last = git_error_last();
      return Status::DeadlineExceeded(
          fmt::format("{}: timed out ({})", context, last != nullptr ? last->message : "?"));
    }
    return GitStatus(rc, context);
  }
  return Status::Ok();
}

}  // namespace hubfs::net::git
