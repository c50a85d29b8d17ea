#include "prefetch_plan.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "mount_of.h"
#include "xattr.h"

namespace hubfs::app {
namespace {

class Walker {
 public:
  explicit Walker(PrefetchPlan* plan) : plan_(plan) {}

  // Adds the file at `path` (stat'ed as `st`) when it has remote content.
  void AddFile(const std::string& path, const struct stat& st) {
    auto dir = ReadXattr(path, "user.hubfs.cache_dir");
    if (!dir) {
      // No hubfs attributes: a generated file (info.json, .hubfs/...), nothing to fetch.
      if (dir.error().code() != Code::kInvalidArgument) plan_->problems.emplace_back(path, dir.error());
      return;
    }
    auto key = ReadXattr(path, "user.hubfs.cache_key");
    if (!key) {
      plan_->problems.emplace_back(path, key.error());
      return;
    }
    if (!seen_.insert(*dir + '\n' + *key).second) return;
    plan_->files.push_back({path, static_cast<uint64_t>(st.st_size), *dir, *key});
  }

  // Adds every file below the folder `path`, in name order; symlinks are not followed.
  void AddFolder(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) {
      plan_->problems.emplace_back(path, Status::FromErrno(errno, "listing " + path));
      return;
    }
    std::vector<std::string> names;
    errno = 0;
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    int err = errno;
    ::closedir(d);
    if (err != 0) plan_->problems.emplace_back(path, Status::FromErrno(err, "listing " + path));
    std::sort(names.begin(), names.end());
    const std::string prefix = path.ends_with('/') ? path : path + '/';
    for (const std::string& name : names) {
      std::string child = prefix + name;
      struct stat st {};
      if (::lstat(child.c_str(), &st) != 0) {
        plan_->problems.emplace_back(child, Status::FromErrno(errno, child));
      } else if (S_ISDIR(st.st_mode)) {
        // An archive's unpacked folder: the archive file beside it is fetched instead (looking
        // inside would fetch it anyway, and then unpack every member into the cache as well).
        // Named explicitly, such a folder is walked.
        if (ReadXattr(child, "user.hubfs.archive")) continue;
        AddFolder(child);
      } else if (S_ISREG(st.st_mode)) {
        AddFile(child, st);
      }
    }
  }

 private:
  PrefetchPlan* plan_;
  std::set<std::string> seen_;  // cache_dir '\n' cache_key of the files added
};

}  // namespace

Result<PrefetchPlan> PlanPrefetch(const std::vector<std::string>& paths) {
  // Check every argument before walking any, so a typo costs nothing.
  for (const std::string& path : paths) {
    HUBFS_RETURN_IF_ERROR(HubfsMountOf(path).status());
  }
  PrefetchPlan plan;
  Walker walker(&plan);
  for (const std::string& path : paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return Status::FromErrno(errno, path);
    if (S_ISDIR(st.st_mode)) {
      walker.AddFolder(path);
    } else if (S_ISREG(st.st_mode)) {
      walker.AddFile(path, st);
    }
  }
  return plan;
}

}  // namespace hubfs::app
