// Builds small zip and tar archives in memory for tests, with libarchive's writer.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hubfs::testing {

struct ArchiveItem {
  enum Type { kFile, kDir, kSymlink, kHardlink };
  ArchiveItem(std::string name_in, std::string content_in, Type type_in = kFile, std::string link_in = "",
              bool stored_in = false)
      : name(std::move(name_in)), content(std::move(content_in)), type(type_in), link(std::move(link_in)),
        stored(stored_in) {}
  std::string name;
  std::string content;      // files
  Type type = kFile;
  std::string link;         // symlink target or hard link target name
  bool stored = false;      // zip: no compression for this member
};

// "zip", "tar" or "tar.gz".
std::string WriteArchive(const std::string& format, const std::vector<ArchiveItem>& items);

}  // namespace hubfs::testing
