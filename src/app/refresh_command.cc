// `hubfs refresh [HUB...]`: asks running mounts to re-read their hubs' manifests and listings now.
// Each mount's daemon is found through the user.hubfs.control attribute of its root folder
// (control_socket.h); the change is visible in the mount when this command returns.
#include <sys/xattr.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "control_socket.h"
#include "hubfs/app/commands.h"
#include "mount_table.h"

namespace hubfs::app {
namespace {

// A refresh may fetch many documents or a git repository; give it time, but not forever.
constexpr int kRefreshTimeoutSeconds = 600;

Result<std::string> ControlAddress(const std::string& mountpoint) {
  char buf[256];
  ssize_t n = ::getxattr(mountpoint.c_str(), "user.hubfs.control", buf, sizeof buf);
  if (n < 0) {
    return Status::FromErrno(errno, mountpoint + " does not say how to reach its daemon (an older "
                                    "hubfs?); remount it to refresh");
  }
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

int RunRefresh(const std::vector<std::string>& hubs, const std::string& mount) {
  std::vector<std::string> mountpoints;
  if (!mount.empty()) {
    char resolved[PATH_MAX];
    if (!::realpath(mount.c_str(), resolved) || MountedFsType(resolved).value_or("") != "fuse.hubfs") {
      std::fprintf(stderr, "hubfs refresh: %s is not a hubfs mount point\n", mount.c_str());
      return 2;
    }
    mountpoints.push_back(resolved);
  } else {
    mountpoints = OwnMountPointsOfType("fuse.hubfs");
    if (mountpoints.empty()) {
      std::fprintf(stderr, "hubfs refresh: no hubfs mount is running (start one with hubfs mount)\n");
      return 2;
    }
  }
  nlohmann::json request{{"op", "refresh"}, {"hubs", hubs}};
  int failures = 0;
  int refreshed = 0;
  std::vector<std::string> unknown;  // mounts (all of them, without --mount) that lack a named hub
  for (const std::string& mp : mountpoints) {
    auto address = ControlAddress(mp);
    Result<nlohmann::json> reply = address ? CallControl(*address, request, kRefreshTimeoutSeconds)
                                           : Result<nlohmann::json>(address.error());
    if (!reply) {
      std::fprintf(stderr, "hubfs refresh: %s: %s\n", mp.c_str(), reply.error().message().c_str());
      ++failures;
      continue;
    }
    if (mount.empty() && reply->value("code", "") == "unknown_hub") {
      unknown.push_back(mp + ": " + reply->value("error", ""));
      continue;  // another mount may have it
    }
    ++refreshed;
    const std::string message = reply->value("message", "");
    if (!message.empty()) std::printf("%s: %s\n", mp.c_str(), message.c_str());
    if (!reply->value("ok", false)) {
      std::fprintf(stderr, "hubfs refresh: %s: %s\n", mp.c_str(), reply->value("error", "failed").c_str());
      ++failures;
    }
  }
  if (refreshed == 0 && !unknown.empty()) {
    for (const std::string& line : unknown) std::fprintf(stderr, "hubfs refresh: %s\n", line.c_str());
    return 1;  // no mount has the hubs asked for
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace hubfs::app
