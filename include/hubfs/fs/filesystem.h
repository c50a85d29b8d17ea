// Filesystem: the FUSE-free core of the mount. Every operation the kernel sends is a method here
// taking and returning plain values; the FUSE adapter (fuse/) only translates. Tests drive it
// directly, without a kernel.
//
// Semantics (docs/architecture.md): read-only; files 0444, folders 0555, symlinks 0777; sizes from
// the hubs' listings, so listing needs no download; file content is fetched on the first read of
// an open file through the ReadEngine (block cache, verification policy of the file's hub).
// Generated files (info.json, ERROR.txt) are served from memory.
//
// Thread-safety: every method may be called from any thread concurrently. The tree is immutable;
// the handle table and lookup counts have their own lock, which is never held across a fetch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "hubfs/fs/read_engine.h"
#include "hubfs/fs/tree.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::fs {

struct FsOptions {
  // Per hub, in the order of the hubs given to the Filesystem; hubs without an entry are strict.
  std::vector<Verification> verification;
  double entry_timeout = 3600;     // seconds the kernel may cache names and attributes
  double negative_timeout = 60;    // seconds the kernel may cache "no such name"
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct Attr {
  NodeId ino = 0;
  uint32_t mode = 0;  // type and permission bits
  uint32_t nlink = 1;
  uint64_t size = 0;
  int64_t mtime = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct DirEntry {
  std::string name;
  NodeId ino = 0;
  uint32_t mode = 0;
};

struct OpenResult {
  uint64_t handle = 0;
  bool keep_cache = false;  // content is immutable: the kernel may keep its page cache
  // The size is not published (st_size shows 0): the kernel must pass reads through to EOF
  // instead of trusting st_size.
  bool direct_io = false;
};

struct FsStats {
  uint64_t nodes = 0;
  uint64_t open_handles = 0;
};

class Filesystem {
 public:
  // `hubs` and `engine` must outlive the filesystem.
  Filesystem(std::vector<hubs::Hub*> hubs, ReadEngine& engine, FsOptions options);

  // Lists every hub and builds the tree. A hub that fails shows ERROR.txt; the others are unaffected.
  void Load();

  const FsOptions& options() const { return options_; }

  // Finds `name` in `parent` and counts one lookup (the kernel's reference) on success.
  // kNotFound when there is no such name (the adapter replies a negative entry).
  Result<Attr> Lookup(NodeId parent, std::string_view name);
  // Drops `count` kernel references to `ino`.
  void Forget(NodeId ino, uint64_t count);
  uint64_t LookupCount(NodeId ino) const;

  Result<Attr> GetAttr(NodeId ino);
  // Calls `add` for entries from `offset` on ("." and ".." first); `add` returns false when its
  // buffer is full. Each entry's offset is its index + 1.
  Status ReadDir(NodeId ino, uint64_t offset,
                 const std::function<bool(const DirEntry&, uint64_t next_offset)>& add);
  Result<std::string> ReadLink(NodeId ino);

  Result<OpenResult> Open(NodeId ino);
  // Reads up to `size` bytes at `offset` into `buf`; fewer only at end of file.
  Result<size_t> Read(uint64_t handle, uint64_t offset, size_t size, char* buf);
  void Release(uint64_t handle);

  FsStats Stats() const;

  // Extended attributes of files with remote content (docs/architecture.md):
  //   user.hubfs.sha256        published (or pinned) sha256, hex
  //   user.hubfs.source        the URL the bytes come from
  //   user.hubfs.cached_bytes  bytes of the file in the cache
  //   user.hubfs.verified      "yes", "no" or "poisoned"
  //   user.hubfs.pinned        "yes" or "no"
  //   user.hubfs.cache_key     the blob's key in the cache
  //   user.hubfs.cache_dir     the cache folder (for hubfs pin)
  // kNotFound for an attribute the file does not have.
  Result<std::string> GetXattr(NodeId ino, std::string_view name);
  Result<std::vector<std::string>> ListXattr(NodeId ino);

 private:
  struct OpenFile;
  Attr AttrOf(const Node& node) const;
  std::shared_ptr<OpenFile> FindHandle(uint64_t handle) const;

  std::vector<hubs::Hub*> hubs_;
  ReadEngine& engine_;
  FsOptions options_;
  std::shared_ptr<const Tree> tree_;

  mutable std::mutex mu_;  // guards the members below; never held across a fetch
  std::unordered_map<NodeId, uint64_t> lookups_;
  std::unordered_map<uint64_t, std::shared_ptr<OpenFile>> handles_;
  uint64_t next_handle_ = 1;
};

}  // namespace hubfs::fs
