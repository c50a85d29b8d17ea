#include "stage_plan.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <map>

#include "hubfs/fs/framework_view.h"
#include "mount_of.h"
#include "xattr.h"

namespace hubfs::app {
namespace {

std::string Join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.ends_with('/') ? dir + name : dir + "/" + name;
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

bool IsDir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The names in folder `path`, sorted.
Result<std::vector<std::string>> ListNames(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return Status::FromErrno(errno, "listing " + path);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return Status::FromErrno(err, "listing " + path);
  std::sort(names.begin(), names.end());
  return names;
}

// The same file of a mount seen through two paths (a hub path and its /by-framework name).
bool SameFile(const std::string& a, const std::string& b) {
  auto key_a = ReadXattr(a, "user.hubfs.cache_key");
  auto key_b = ReadXattr(b, "user.hubfs.cache_key");
  return key_a && key_b && *key_a == *key_b;
}

class Planner {
 public:
  explicit Planner(StagePlan* plan) : plan_(plan) {}

  // A path given on the command line as `given`, resolved (`real`) and stat'ed, in the mount at
  // `mount`.
  void AddArgument(const std::string& mount, const std::string& given, const std::string& real,
                   const struct stat& st) {
    mount_ = mount;
    given_ = given;
    while (given_.size() > 1 && given_.ends_with('/')) given_.pop_back();
    real_ = real;
    std::string rel = real.size() > mount_.size() ? real.substr(mount_.size() + 1) : "";
    const std::string view_root = Join(mount_, fs::kFrameworkFolder);
    if (rel.empty()) {
      // The whole mount: every model is in the view; without it, every hub.
      if (IsDir(view_root)) {
        AddViewFolder(view_root, "");
      } else {
        AddHubFolder(real);
      }
      return;
    }
    const std::string view_prefix = std::string(fs::kFrameworkFolder) + "/";
    if (rel == fs::kFrameworkFolder || rel.starts_with(view_prefix)) {
      const std::string target = rel == fs::kFrameworkFolder ? "" : rel.substr(view_prefix.size());
      if (S_ISDIR(st.st_mode)) {
        AddViewFolder(real, target);
      } else if (target.find('/') == std::string::npos) {
        plan_->problems.emplace_back(given_, Status::InvalidArgument("not a model file (not in a framework folder)"));
      } else {
        AddViewFile(real, real, target, st);
      }
    } else if (S_ISDIR(st.st_mode)) {
      AddHubFolder(real);
    } else if (S_ISREG(st.st_mode)) {
      AddHubFile(real, st, /*named=*/true);
    }
  }

 private:
  void Add(const std::string& source, const std::string& target, const struct stat& st) {
    auto [it, inserted] = targets_.emplace(target, source);
    if (inserted) {
      const bool below = source == real_ || source.starts_with(real_ + "/");
      const std::string shown = below ? given_ + source.substr(real_.size()) : source;
      plan_->files.push_back({source, shown, target, mount_, static_cast<uint64_t>(st.st_size)});
    } else if (it->second != source && !SameFile(it->second, source)) {
      plan_->problems.emplace_back(source, Status::FailedPrecondition("would be staged as " + target + ", like " +
                                                                      it->second + " (set by_framework = true "
                                                                      "for distinct names)"));
    }
  }

  // A file of the view, read from `source`; `view_path` is its path in the view. An archive
  // brings its unpacked folder.
  void AddViewFile(const std::string& source, const std::string& view_path, const std::string& target,
                   const struct stat& st) {
    Add(source, target, st);
    const std::string stem = fs::ArchiveStem(BaseName(view_path));
    if (stem.empty()) return;
    const std::string unpacked = Join(DirName(view_path), stem);
    if (IsDir(unpacked)) AddViewFolder(unpacked, Join(DirName(target), stem));
  }

  // Every regular file below the view folder `dir`, at `target` + its path below `dir`.
  void AddViewFolder(const std::string& dir, const std::string& target) {
    auto names = ListNames(dir);
    if (!names) {
      plan_->problems.emplace_back(dir, names.error());
      return;
    }
    for (const std::string& name : *names) {
      const std::string child = Join(dir, name);
      struct stat st {};
      if (::lstat(child.c_str(), &st) != 0) {
        plan_->problems.emplace_back(child, Status::FromErrno(errno, child));
      } else if (S_ISDIR(st.st_mode)) {
        AddViewFolder(child, Join(target, name));
      } else if (S_ISREG(st.st_mode) && ReadXattr(child, "user.hubfs.cache_key")) {
        Add(child, Join(target, name), st);  // not the ERROR.txt of an archive left packed
      }
    }
  }

  void AddHubFolder(const std::string& dir) {
    auto names = ListNames(dir);
    if (!names) {
      plan_->problems.emplace_back(dir, names.error());
      return;
    }
    for (const std::string& name : *names) {
      const std::string child = Join(dir, name);
      if (dir == mount_ && (name == ".hubfs" || name == fs::kFrameworkFolder)) continue;
      struct stat st {};
      if (::lstat(child.c_str(), &st) != 0) {
        plan_->problems.emplace_back(child, Status::FromErrno(errno, child));
      } else if (S_ISDIR(st.st_mode)) {
        // An archive's unpacked folder comes along with its archive when that is a model.
        if (!ReadXattr(child, "user.hubfs.archive")) AddHubFolder(child);
      } else if (S_ISREG(st.st_mode)) {
        AddHubFile(child, st, /*named=*/false);
      }
    }
  }

  // A file of a hub: a model goes where the view shows it.
  void AddHubFile(const std::string& path, const struct stat& st, bool named) {
    auto framework = ReadXattr(path, "user.hubfs.framework");
    if (!framework) {
      if (framework.error().code() != Code::kInvalidArgument) {
        plan_->problems.emplace_back(path, framework.error());
      } else if (named) {
        plan_->problems.emplace_back(given_, Status::InvalidArgument("not a model file (it has no user.hubfs.framework)"));
      } else {
        plan_->not_models++;
      }
      return;
    }
    const std::string view_dir = Join(Join(mount_, fs::kFrameworkFolder), *framework);
    if (!IsDir(view_dir)) {
      Add(path, Join(*framework, BaseName(path)), st);  // by_framework = false: the plain name
      return;
    }
    auto name = ViewName(view_dir, path);
    if (!name) {
      plan_->problems.emplace_back(path, name.error());
      return;
    }
    AddViewFile(path, Join(view_dir, *name), Join(*framework, *name), st);
  }

  // The name of `path`'s file in the view folder `view_dir`: the candidate with its cache key.
  Result<std::string> ViewName(const std::string& view_dir, const std::string& path) {
    HUBFS_ASSIGN_OR_RETURN(std::string key, ReadXattr(path, "user.hubfs.cache_key"));
    auto listed = folders_.find(view_dir);
    if (listed == folders_.end()) {
      HUBFS_ASSIGN_OR_RETURN(auto names, ListNames(view_dir));
      listed = folders_.emplace(view_dir, std::move(names)).first;
    }
    for (const std::string& candidate : ViewNameCandidates(BaseName(path), listed->second)) {
      auto other = ReadXattr(Join(view_dir, candidate), "user.hubfs.cache_key");
      if (other && *other == key) return candidate;
    }
    return Status::NotFound("not found in " + view_dir + " (a refresh under way? try again)");
  }

  std::string mount_;  // of the argument being walked
  std::string given_;  // the argument as given
  std::string real_;   // the argument resolved
  StagePlan* plan_;
  std::map<std::string, std::string> targets_;                // target -> source
  std::map<std::string, std::vector<std::string>> folders_;  // view folder -> its names
};

}  // namespace

std::vector<std::string> ViewNameCandidates(const std::string& name, const std::vector<std::string>& folder_names) {
  std::vector<std::string> out{name};
  const auto [stem, ext] = fs::SplitExtension(name);
  const std::string prefix = stem + "~";
  for (const std::string& other : folder_names) {
    if (other != name && other.size() > prefix.size() + ext.size() && other.starts_with(prefix) &&
        other.ends_with(ext)) {
      out.push_back(other);
    }
  }
  return out;
}

Result<StagePlan> PlanStage(const std::vector<std::string>& paths) {
  // Check every argument before walking any, so a typo costs nothing.
  struct Resolved {
    std::string mount, given, real;
  };
  std::vector<Resolved> resolved;
  for (const std::string& path : paths) {
    HUBFS_ASSIGN_OR_RETURN(std::string mount, HubfsMountOf(path));
    char real[PATH_MAX];
    if (::realpath(path.c_str(), real) == nullptr) return Status::FromErrno(errno, path);
    resolved.push_back({std::move(mount), path, real});
  }
  StagePlan plan;
  Planner planner(&plan);
  for (const Resolved& r : resolved) {
    struct stat st {};
    if (::stat(r.real.c_str(), &st) != 0) return Status::FromErrno(errno, r.real);
    planner.AddArgument(r.mount, r.given, r.real, st);
  }
  return plan;
}

}  // namespace hubfs::app
