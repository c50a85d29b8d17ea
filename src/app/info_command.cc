// `hubfs info PATH... [--json]`: what hubfs knows about files and folders of a mount
// (path_info.h). Exit status: 0; 1 when a path could not be read (e.g. the daemon died);
// 2 when a path does not exist or is not in a hubfs mount.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ostream>

#include "hubfs/app/commands.h"
#include "mount_of.h"
#include "path_info.h"

namespace hubfs::app {

int RunInfo(const InfoArgs& args, std::ostream& out, std::ostream& err) {
  OpenCaches caches;
  nlohmann::json all = nlohmann::json::array();
  int status = 0;
  bool first = true;
  for (const std::string& path : args.paths) {
    auto mountpoint = HubfsMountOf(path);
    struct stat st {};
    if (mountpoint && ::stat(path.c_str(), &st) != 0) mountpoint = Status::FromErrno(errno, path);
    if (!mountpoint) {
      const Code code = mountpoint.error().code();
      err << "hubfs info: " << mountpoint.error().message() << "\n";
      status = std::max(status, code == Code::kNotFound || code == Code::kInvalidArgument ? 2 : 1);
      continue;
    }
    nlohmann::json json;
    if (S_ISDIR(st.st_mode)) {
      auto info = GetFolderInfo(path, *mountpoint);
      if (!info) {
        err << "hubfs info: " << info.error().message() << "\n";
        status = std::max(status, 1);
        continue;
      }
      if (args.json) all.push_back(FolderInfoJson(*info));
      else {
        if (!first) out << "\n";
        PrintFolderInfo(*info, out);
      }
    } else {
      auto info = GetFileInfo(path, *mountpoint, &caches);
      if (!info) {
        err << "hubfs info: " << info.error().message() << "\n";
        status = std::max(status, 1);
        continue;
      }
      if (args.json) all.push_back(FileInfoJson(*info));
      else {
        if (!first) out << "\n";
        PrintFileInfo(*info, out);
      }
    }
    first = false;
  }
  // One path: its object; several: an array of the ones that could be read.
  if (args.json && !all.empty()) out << (args.paths.size() == 1 ? all[0] : all).dump(2) << "\n";
  return status;
}

}  // namespace hubfs::app
