// The archive entries as libarchive reports them, before any containment rule (private to
// src/archive/). Contain() turns them into an Index; it is pure, so the rules are testable
// without building hostile archives.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hubfs/archive/archive.h"

namespace hubfs::archive {

enum class RawType { kFile, kDirectory, kSymlink, kHardlink, kOther };

struct RawEntry {
  std::string name;         // as stored
  RawType type = RawType::kFile;
  uint64_t size = 0;        // unpacked bytes, as declared
  std::string link;         // symlink target, or hard link target name
  bool encrypted = false;
  uint32_t ordinal = 0;
};

// Applies the containment rules of archive.h to `entries` (the whole archive), for an archive of
// `archive_size` bytes. Stored offsets are left unset; the reader fills them for zip.
Index Contain(const std::vector<RawEntry>& entries, uint64_t archive_size, const Limits& limits);

}  // namespace hubfs::archive
