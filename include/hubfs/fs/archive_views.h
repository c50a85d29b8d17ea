// ArchiveViews: the unpacked folders shown beside archive files (archive/archive.h).
//
// A folder <stem>/ appears beside every archive a hub lists. Its members are known once the
// archive was indexed: on the first look inside the folder, the archive is read through the read
// engine (downloaded and verified strictly, whatever the hub's policy, since members are made
// from its bytes) and its index is kept in the metadata cache ("archive-index <cache key>"), so
// later mounts show the members without reading the archive again.
//
// Member bytes:
//   stored zip members   read from the archive's own blob at their offset: no copy.
//   everything else      unpacked once into a derived blob of the cache, keyed by the derivation
//                        (DerivedObject: archive cache key, entry number, path), so an evicted
//                        derived blob is unpacked again from the archive, not downloaded; the
//                        engine pins the first unpacking's sha256 and checks every later one.
//
// Thread-safety: all methods may be called from any thread; work on one archive or one derived
// blob is done once at a time (per-key locks, never held across another archive's work).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "hubfs/archive/archive.h"
#include "hubfs/core/result.h"
#include "hubfs/fs/read_engine.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::fs {

// A member as the tree knows it.
struct ArchiveMemberRef {
  hubs::RemoteObject archive;
  archive::Member member;
};

class ArchiveViews {
 public:
  // `engine` must outlive this.
  ArchiveViews(ReadEngine& engine, archive::Limits limits);

  // The index of `archive` when it is known (memory, then the metadata cache); no download.
  std::shared_ptr<const archive::Index> Known(const hubs::RemoteObject& archive);
  // Reads and indexes `archive` (downloading it when needed). A hostile archive gives an index
  // with `refused` set; errors are the download's or the archive format's.
  Result<std::shared_ptr<const archive::Index>> Index(const hubs::RemoteObject& archive);

  // Opens a member for reading. For stored members the file is the archive's, and reads must add
  // `*offset`; otherwise `*offset` is 0 and the file is the derived blob, unpacked first if the
  // cache lacks it.
  Result<std::unique_ptr<ReadEngine::File>> Open(const ArchiveMemberRef& ref, Verification policy,
                                                 uint64_t* offset);
  // Where a member's unpacked bytes are kept: a RemoteObject whose URL names the derivation.
  static hubs::RemoteObject DerivedObject(const ArchiveMemberRef& ref);
  // The cache key holding a member's bytes now (the archive's for stored members).
  static std::string KeyFor(const ArchiveMemberRef& ref);

 private:
  std::shared_ptr<std::mutex> LockFor(const std::string& key);
  // Writes the member's bytes into `blob` (its derived blob), block by block.
  Status Unpack(const ArchiveMemberRef& ref, cache::Blob& blob);

  ReadEngine& engine_;
  archive::Limits limits_;
  std::mutex mu_;  // guards the maps; never held across I/O
  std::map<std::string, std::shared_ptr<const archive::Index>> known_;
  std::map<std::string, std::shared_ptr<std::mutex>> locks_;
};

}  // namespace hubfs::fs
