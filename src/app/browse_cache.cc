#include "browse_cache.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cache_dir.h"
#include "hubfs/app/config.h"

namespace hubfs::app {
namespace {

std::string Absolute(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path path = std::filesystem::absolute(dir, ec);
  return (ec ? std::filesystem::path(dir) : path).lexically_normal().string();
}

std::string Owner(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  if (const passwd* pw = ::getpwuid(uid)) text += " (" + std::string(pw->pw_name) + ")";
  return text;
}

// Why `dir` is not this user's usable cache folder, or "" when it is (created when missing).
std::string Unusable(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return "it is not a folder";
    if (st.st_uid != ::geteuid())
      return "it belongs to " + Owner(st.st_uid) + ", not to " + Owner(::geteuid());
    if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) return std::strerror(errno);
    return "";
  }
  if (errno != ENOENT) return std::strerror(errno);
  std::string ignored;
  Status made = PrepareCacheDir(dir, &ignored);
  return made.ok() ? "" : made.message();
}

}  // namespace

Result<std::string> BrowseCacheDir(const std::string& configured, std::string* note) {
  note->clear();
  const std::string dir = Absolute(configured);
  const std::string why = Unusable(dir);
  if (why.empty()) return dir;
  const std::string own = Absolute(DefaultCacheDir());
  if (own == dir)
    return Status::PermissionDenied("cannot use the cache folder " + dir + ": " + why);
  std::string made_private;
  if (Status s = PrepareCacheDir(own, &made_private); !s.ok()) {
    return Status::PermissionDenied("cannot use the cache folder " + dir + " (" + why +
                                    "), nor your own " + own + " (" + s.message() +
                                    "); set XDG_CACHE_HOME to a folder you can write");
  }
  *note = "the cache folder " + dir + " is not yours (" + why +
          "): listings are cached in your own " + own +
          (made_private.empty() ? "" : " (" + made_private + ")");
  return own;
}

}  // namespace hubfs::app
