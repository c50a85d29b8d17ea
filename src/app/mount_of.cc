#include "mount_of.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "mount_table.h"

namespace hubfs::app {

Result<std::string> HubfsMountOf(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return Status::NotFound(path + ": no such file or folder");
    return Status::FromErrno(errno, path);
  }
  // The innermost mount is the longest mount point that is a prefix of the resolved path.
  std::string candidate = resolved;
  while (true) {
    if (auto entry = FindMount(candidate)) {
      if (entry->fstype == "fuse.hubfs") return candidate;
      return Status::InvalidArgument(path + " is not in a hubfs mount");
    }
    if (candidate == "/") return Status::InvalidArgument(path + " is not in a hubfs mount");
    size_t slash = candidate.rfind('/');
    candidate = slash == 0 ? "/" : candidate.substr(0, slash);
  }
}

}  // namespace hubfs::app
