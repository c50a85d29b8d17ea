#include "xattr.h"

#include <sys/xattr.h>

#include <cerrno>

namespace hubfs::app {

Result<std::string> ReadXattr(const std::string& path, const char* name) {
  char buf[4096];  // the longest value is a URL; hubfs limits them far below this
  ssize_t n = ::getxattr(path.c_str(), name, buf, sizeof buf);
  if (n < 0) {
    if (errno == ENODATA || errno == ENOTSUP) {
      return Status::InvalidArgument(path + " is not a file of a hubfs mount");
    }
    return Status::FromErrno(errno, path);
  }
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace hubfs::app
