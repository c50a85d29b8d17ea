#include "net/git/libgit2_runtime.h"

#include <fmt/format.h>
#include <git2.h>

#include "net/git/timed_socket_stream.h"

namespace hubfs::net::git {
namespace {

#ifdef HUBFS_VERSION
constexpr char kUserAgent[] = "hubfs/" HUBFS_VERSION;
#else
constexpr char kUserAgent[] = "hubfs";
#endif

Status OptionError(const char* what) {
  const git_error* last = git_error_last();
  return Status::Internal(
      fmt::format("libgit2 set-up, {}: {}", what, last != nullptr ? last->message : "failed"));
}

Status Configure() {
  for (int level : {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG, GIT_CONFIG_LEVEL_GLOBAL,
                    GIT_CONFIG_LEVEL_PROGRAMDATA}) {
    if (git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "") != 0) {
      return OptionError("config search path");
    }
  }
  if (git_libgit2_opts(GIT_OPT_SET_USER_AGENT, kUserAgent) != 0) return OptionError("user agent");
  if (git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1) != 0) return OptionError("fsync");
  return RegisterTimedSocketStream();
}

// Lives from the first EnsureLibGit2() to the end of the process.
class Runtime {
 public:
  Runtime() {
    if (int rc = git_libgit2_init(); rc < 0) {
      status_ = Status::Internal(fmt::format("git_libgit2_init failed ({})", rc));
      return;
    }
    initialised_ = true;
    status_ = Configure();
  }
  ~Runtime() {
    if (initialised_) git_libgit2_shutdown();
  }
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const Status& status() const { return status_; }

 private:
  bool initialised_ = false;
  Status status_;
};

}  // namespace

Status EnsureLibGit2() {
  static const Runtime runtime;  // thread-safe initialisation (C++11 magic statics)
  return runtime.status();
}

}  // namespace hubfs::net::git
