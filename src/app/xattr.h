// Reading the user.hubfs.* extended attributes that a hubfs mount shows on its files; the
// subcommands that work on files of a mount (pin, prefetch) learn from them which cache holds
// a file and how much of it is there.
#pragma once

#include <string>

#include "hubfs/core/result.h"

namespace hubfs::app {

// The value of attribute `name` of `path` (symlinks followed). A missing attribute, or a file
// system without user attributes, is InvalidArgument "<path> is not a file of a hubfs mount"
// (generated files such as info.json have none); other failures carry strerror.
Result<std::string> ReadXattr(const std::string& path, const char* name);

}  // namespace hubfs::app
