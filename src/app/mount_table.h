// Reads /proc/self/mountinfo to tell whether a path is a mount point.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hubfs::app {

struct MountEntry {
  std::string fstype;  // e.g. "fuse.hubfs"
  std::string device;  // "major:minor", the name of the mount's bdi in /sys/class/bdi
};

// What is mounted exactly at `path` (an absolute, resolved path), the topmost mount if several;
// nullopt when nothing is mounted there.
std::optional<MountEntry> FindMount(const std::string& path);

// Every mount point with file system type `fstype` (e.g. "fuse.hubfs"), in mount order.
std::vector<std::string> MountPointsOfType(const std::string& fstype);

// The FUSE mounts of `fstype` that the calling user should talk to by default: all of them for
// root, else those mounted by this user (the kernel's user_id= option). Commands that visit every
// mount (refresh, status) use it, so that they never ask another user's daemon.
std::vector<std::string> OwnMountPointsOfType(const std::string& fstype);

inline std::optional<std::string> MountedFsType(const std::string& path) {
  auto entry = FindMount(path);
  return entry ? std::optional<std::string>(entry->fstype) : std::nullopt;
}

}  // namespace hubfs::app
