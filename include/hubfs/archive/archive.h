// Archives (zip: .model, .mar, .zip; tar, optionally gzip/bzip2/xz compressed: .tar.gz, .tgz):
// what they contain and the bytes of one member, read through libarchive from any random-access
// source (the archive's blob, through the read engine).
//
// Archives are untrusted. ReadIndex contains them: a member is skipped, with a reason in
// Index::skipped, when its name is absolute, has a ".." or an unusable component, repeats an
// earlier name, lies below a name that is a file, is a link whose target would leave the
// archive's folder, is encrypted, or is not a file, folder or link. The whole archive is refused
// (Index::refused) when it has more members or more unpacked bytes than the Limits allow, or
// unpacks to more than `max_ratio` times its own size (zip and gzip bombs). ExtractMember never
// produces more bytes than the index declared for the member.
//
// When every member lies below one top-level folder (the ONNX bundles' "mnist-8/…", 0.1-era
// model archives with "one extra parent folder"), that folder is stripped: paths are relative to it.
//
// Thread-safety: the functions keep no state; a Source is used by one call at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::archive {

// Random-access bytes of an archive.
class Source {
 public:
  virtual ~Source() = default;
  virtual uint64_t size() const = 0;
  // Reads up to `length` bytes at `offset` into `out`: the count, fewer only at the end.
  virtual Result<size_t> ReadAt(uint64_t offset, char* out, size_t length) = 0;
};

enum class MemberKind { kFile, kDirectory, kSymlink };

struct Member {
  std::vector<std::string> path;  // below the view folder; every component passed IsSafeName
  MemberKind kind = MemberKind::kFile;
  uint64_t size = 0;              // files: unpacked bytes
  std::string link_target;        // symlinks: relative, stays inside the view folder
  // Which archive entry holds the bytes (0-based, in archive order). A tar hard link points at
  // the entry of its target.
  uint32_t ordinal = 0;
  // Zip members stored without compression: where their bytes start in the archive, so they can
  // be served straight from it. nullopt: the member must be unpacked (ExtractMember).
  std::optional<uint64_t> stored_offset;
};

struct Limits {
  uint64_t max_members = 100000;
  uint64_t max_total_bytes = uint64_t{64} << 30;  // unpacked bytes of all members
  uint64_t max_ratio = 1000;                      // unpacked bytes / archive bytes
};

struct Index {
  std::string format;                // "zip" or "tar" (with its compression, e.g. "tar.gz")
  uint64_t archive_size = 0;
  std::vector<Member> members;       // in archive order; folders implied by paths may be absent
  std::vector<std::string> skipped;  // "<name as stored>: <why>", one per skipped member
  std::string refused;               // non-empty: the archive is not unpacked at all, and why
};

// Lists the archive. An error when `source` fails or is not an archive libarchive understands
// (kDataLoss); a hostile archive is an Index with `refused` set, not an error.
Result<Index> ReadIndex(Source& source, const Limits& limits);

// Streams the unpacked bytes of `member` (a kFile of the source's Index) to `sink`, in order. kDataLoss when
// the archive's bytes do not unpack to exactly member.size bytes.
Status ExtractMember(Source& source, const Member& member,
                     const std::function<Status(std::string_view)>& sink);

// Index as text for the metadata cache, and back (kDataLoss for text this version cannot read).
std::string EncodeIndex(const Index& index);
Result<Index> DecodeIndex(std::string_view text);

// True for file names hubfs shows an unpacked folder for; `*stem` gets the folder's name
// ("mnist-8.tar.gz" -> "mnist-8"). Case-insensitive suffixes: .zip .model .mar .tar .tar.gz
// .tgz .tar.bz2 .tar.xz.
bool IsArchiveName(std::string_view name, std::string* stem);

}  // namespace hubfs::archive
