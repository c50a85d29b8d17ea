#include "cache_dir.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

namespace hubfs::app {
namespace {

std::string Mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string User(uid_t uid) {
  std::string text = "uid " + std::to_string(uid);
  if (const passwd* pw = ::getpwuid(uid)) text += " (" + std::string(pw->pw_name) + ")";
  return text;
}

}  // namespace

Status PrepareCacheDir(const std::string& dir, std::string* note) {
  note->clear();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return Status::FromErrno(errno, "cache folder " + dir);
    // A fresh account has no ~/.cache: create the parents too.
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IoError("cannot create the cache folder " + dir + ": " + ec.message());
    if (::chmod(dir.c_str(), 0700) != 0) return Status::FromErrno(errno, "chmod 0700 " + dir);
    return Status();
  }
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument("cache folder " + dir + " is not a folder");
  if (st.st_uid != ::geteuid()) {
    return Status::PermissionDenied("cache folder " + dir + " belongs to " + User(st.st_uid) +
                                    ", but hubfs runs as " + User(::geteuid()) +
                                    "; the cache must be the daemon's own: chown it, or use another "
                                    "cache_dir (--cache-dir)");
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return Status::PermissionDenied("cache folder " + dir + " is writable by other users (mode " +
                                    Mode(st.st_mode) +
                                    "), so what it holds cannot be trusted; check or empty it "
                                    "(hubfs cache clear --cache-dir " + dir + "), then chmod 700 " + dir);
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    if (::chmod(dir.c_str(), 0700) != 0) return Status::FromErrno(errno, "chmod 0700 " + dir);
    *note = "cache folder " + dir + " was readable by other users (mode " + Mode(st.st_mode) +
            "); it is now 0700";
  }
  return Status();
}

}  // namespace hubfs::app
