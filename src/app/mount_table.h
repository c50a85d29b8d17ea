// Reads /proc/self/mountinfo to tell whether a path is a mount point.
#pragma once

#include <optional>
#include <string>

namespace hubfs::app {

// The filesystem type mounted exactly at `path` (an absolute, resolved path), e.g. "fuse.hubfs";
// nullopt when nothing is mounted there.
std::optional<std::string> MountedFsType(const std::string& path);

}  // namespace hubfs::app
