// Filesystem: the FUSE-free core of the mount. Every operation the kernel sends is a method here
// taking and returning plain values; the FUSE adapter (fuse/) only translates. Tests drive it
// directly, without a kernel.
//
// Semantics (docs/architecture.md): read-only; files 0444, folders 0555, symlinks 0777; sizes from
// the hubs' listings, so listing needs no download; file content is fetched on the first read of
// an open file through the ReadEngine (block cache, verification policy of the file's hub).
// Generated files (info.json, ERROR.txt) are served from memory.
//
// Refresh: a refresh lists hubs again and swaps in a new immutable tree. Entries that did not
// change keep their inode numbers (inode_numbers.h); the caller tells the kernel to forget what
// changed (RefreshResult::changes). Nodes the kernel still holds but that vanished stay
// reachable by number until the kernel forgets them, and open files keep their old tree.
//
// Sizes that a hub does not publish are learned on lookup with a HEAD (remote_sizes.h).
//
// Thread-safety: every method may be called from any thread concurrently. Trees are immutable;
// the handle table and lookup counts have their own lock, which is never held across a fetch.
// Refreshes run one at a time (their own lock, which FUSE requests never take).
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hubfs/fs/archive_views.h"
#include "hubfs/fs/read_engine.h"
#include "hubfs/fs/remote_sizes.h"
#include "hubfs/fs/tree.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::fs {

struct FsOptions {
  // Per hub, in the order of the hubs given to the Filesystem; hubs without an entry are strict.
  std::vector<Verification> verification;
  double entry_timeout = 3600;     // seconds the kernel may cache names and attributes
  double negative_timeout = 60;    // seconds the kernel may cache "no such name"
  double unknown_size_timeout = 1; // seconds for attributes of a file whose size is not known yet
  // The daemon's control socket, shown as user.hubfs.control on the root folder ("": none).
  std::string control_address;
  // The effective configuration (secrets masked), shown as /.hubfs/config.
  std::string config_text;
  // More lines for /.hubfs/stats (Prometheus text) from the daemon's other parts; none if unset.
  std::function<std::string()> extra_stats;
  // Show /by-framework/ (fs/framework_view.h), made from every hub's listing.
  bool by_framework = false;
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
  double timeout = 0;  // seconds the kernel may cache these attributes (and the entry)
  bool size_unknown = false;  // a remote file whose size was not learned (yet): size shows 0
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

// An error a reader got, as /.hubfs/errors shows it.
struct RecordedError {
  int64_t at = 0;        // seconds since the epoch
  std::string op;        // the FUSE operation
  std::string path;      // in the mount, when known
  std::string source;    // the URL, for remote files
  std::string message;   // the reason
  std::string kind;      // the Code's name
};

struct RefreshResult {
  std::vector<std::string> hubs;     // the hubs listed again
  std::vector<std::string> errors;   // hubs that could not be listed (they keep their last listing)
  TreeChanges changes;               // what the kernel must forget
  std::vector<NodeId> unsized;       // files the kernel knows whose sizes may have changed
  size_t nodes = 0;                  // nodes in the new tree
};

struct FsStats {
  uint64_t nodes = 0;
  uint64_t open_handles = 0;
};

// One hub as `hubfs status` shows it (Filesystem::HubStatuses).
struct HubStatus {
  std::string name;
  uint64_t entries = 0;    // files, folders and links below the hub's folder now
  uint64_t files = 0;      // ... of them files with remote content
  int64_t listed_at = 0;   // Listing::mtime of the listing in use; 0: none (the hub shows ERROR.txt)
  std::string error;       // why the last listing attempt failed; "" when it worked
};

// A file with remote content that a reader has open (Filesystem::OpenFiles).
struct OpenFileStatus {
  std::string path;        // in the mount
  std::string url;
  std::string cache_key;
  uint64_t size = 0;       // 0 when not published (learned at open)
  uint64_t handles = 0;    // open handles of this file
};

class Filesystem {
 public:
  // `hubs`, `engine` and `sizes` (if given) must outlive the filesystem. Without `sizes`, files
  // whose size the hub does not publish show size 0 until opened.
  Filesystem(std::vector<hubs::Hub*> hubs, ReadEngine& engine, FsOptions options,
             RemoteSizes* sizes = nullptr);

  // Lists every hub and builds the tree. A hub that fails shows ERROR.txt; the others are unaffected.
  void Load();
  // Lists the named hubs (every hub when `names` is empty) again and swaps in the new tree.
  // kNotFound when a name is not a hub. A hub that fails keeps its last listing (or ERROR.txt).
  Result<RefreshResult> Refresh(const std::vector<std::string>& names, const hubs::ListOptions& options);
  std::vector<std::string> HubNames() const;
  // Called (outside every lock, on the thread of the lookup) with what a lookup-driven listing
  // changed, so the kernel can be told (the caller must not invalidate from inside a FUSE
  // request: hand it to another thread). Set once, before serving.
  void SetChangeListener(std::function<void(const RefreshResult&)> listener) { listener_ = std::move(listener); }
  // Shows an unpacked folder beside every archive file (tree.h), indexed by `archives` (which
  // must outlive the filesystem) on the first look inside. Set once, before Load.
  void SetArchiveViews(ArchiveViews* archives) { archives_ = archives; }

  const FsOptions& options() const { return options_; }

  // Finds `name` in `parent` and counts one lookup (the kernel's reference) on success.
  // kNotFound when there is no such name (the adapter replies a negative entry). Looking into
  // an archive's folder that is not indexed yet indexes the archive first (downloading it) and
  // swaps in a tree with its members (the change listener is told). A name the
  // tree lacks below a hub with an open namespace is asked of the hub (Hub::Discover); when the
  // hub learns it, the hub is listed again, the new tree swapped in, and the change listener
  // told what changed. With
  // `learn_size` false (readdirplus), an unpublished size is not asked for: the attributes then
  // show size 0, with size_unknown set and a short timeout.
  Result<Attr> Lookup(NodeId parent, std::string_view name, bool learn_size = true);
  // Drops `count` kernel references to `ino`.
  void Forget(NodeId ino, uint64_t count);
  uint64_t LookupCount(NodeId ino) const;

  Result<Attr> GetAttr(NodeId ino);
  // Calls `add` for entries from `offset` on ("." and ".." first); `add` returns false when its
  // buffer is full. Each entry's offset is its index + 1. An archive's folder is indexed first,
  // as in Lookup.
  Status ReadDir(NodeId ino, uint64_t offset,
                 const std::function<bool(const DirEntry&, uint64_t next_offset)>& add);
  Result<std::string> ReadLink(NodeId ino);

  Result<OpenResult> Open(NodeId ino);
  // Reads up to `size` bytes at `offset` into `buf`; fewer only at end of file.
  Result<size_t> Read(uint64_t handle, uint64_t offset, size_t size, char* buf);
  void Release(uint64_t handle);

  FsStats Stats() const;
  // For `hubfs status` (filesystem_status.cc); none of them waits for a refresh or a fetch.
  std::vector<HubStatus> HubStatuses() const;
  // Open files with remote content, one per cache key, by path.
  std::vector<OpenFileStatus> OpenFiles() const;
  // The remote content of every file in the current tree, one per published sha256 (files
  // without one are left out), for the import of the clients' caches (filesystem_remotes.cc).
  std::vector<hubs::RemoteObject> PublishedObjects() const;
  // The newest `n` recorded errors (oldest first); `*total` (if given): errors since the mount.
  std::vector<RecordedError> RecentErrors(size_t n, uint64_t* total = nullptr) const;

  // Remembers an error returned to a reader, for /.hubfs/errors and the errors_total metric.
  void RecordError(std::string_view op, NodeId ino, const Status& status);
  // The contents of /.hubfs/stats and /.hubfs/errors now.
  std::string StatsText() const;
  std::string ErrorsText() const;
  // The mount path of `ino` ("/onnx/vision/..."), "" when unknown.
  std::string PathOf(NodeId ino) const;

  // Extended attributes of files with remote content (docs/architecture.md):
  //   user.hubfs.sha256        published (or pinned) sha256, hex
  //   user.hubfs.source        the URL the bytes come from (archive members: <archive URL>#<path>)
  //   user.hubfs.cached_bytes  bytes of the file in the cache
  //   user.hubfs.verified      "yes", "no" or "poisoned"
  //   user.hubfs.pinned        "yes" or "no"
  //   user.hubfs.cache_key     the blob's key in the cache
  //   user.hubfs.cache_dir     the cache folder (for hubfs pin)
  //   user.hubfs.framework     model files: their framework (the /by-framework folder)
  // on an archive's unpacked folder:
  //   user.hubfs.archive       the archive's URL (reading the attribute does not index it)
  // and on the root folder:
  //   user.hubfs.control       the daemon's control socket (for hubfs refresh)
  // kNotFound for an attribute the file does not have; kInvalidArgument for a name outside the
  // user namespace (no security.*, system.* or trusted.* attributes exist).
  Result<std::string> GetXattr(NodeId ino, std::string_view name);
  Result<std::vector<std::string>> ListXattr(NodeId ino);

 private:
  struct OpenFile;
  // A node and the tree that holds it (which stays alive as long as the reference).
  struct NodeRef {
    std::shared_ptr<const Tree> tree;
    const Node* node = nullptr;
    explicit operator bool() const { return node != nullptr; }
  };
  struct HubState {
    std::optional<hubs::Listing> listing;  // the last good listing
    std::string error;                     // why the last listing failed
  };
  NodeRef Find(NodeId ino) const;
  // Builds the tree from hub_states_ and swaps it in (refresh_mu_ held). `selected`: the hubs
  // just listed (their warnings are logged, their unsized files reported).
  RefreshResult SwapTree(const std::vector<bool>& selected);
  // When `ino` is an archive's folder not indexed yet: indexes the archive (no lock held while
  // it downloads), swaps in a tree with its members and tells the change listener.
  Status IndexArchive(NodeId ino);
  // Lookup's miss path: asks the hub that owns `dir` about `name`; on success the refreshed
  // tree's `dir` and child.
  Result<std::pair<NodeRef, const Node*>> Discover(NodeId parent, std::string_view name);
  // Attributes; with `learn_size`, a file whose size is not published gets it from RemoteSizes.
  Attr AttrOf(const Node& node, bool learn_size) const;
  // The remote object to open, with its size learned if the hub did not publish it.
  Result<hubs::RemoteObject> Resolve(const Node& node, std::string* etag) const;
  std::shared_ptr<OpenFile> FindHandle(uint64_t handle) const;

  std::vector<hubs::Hub*> hubs_;
  ReadEngine& engine_;
  FsOptions options_;
  RemoteSizes* sizes_;
  ArchiveViews* archives_ = nullptr;
  std::function<void(const RefreshResult&)> listener_;
  InodeNumbers numbers_;
  std::atomic<std::shared_ptr<const Tree>> tree_;

  std::mutex refresh_mu_;  // one refresh at a time; guards hub_states_
  std::vector<HubState> hub_states_;

  mutable std::mutex mu_;  // guards the members below; never held across a fetch
  std::unordered_map<NodeId, uint64_t> lookups_;
  // Nodes that vanished in a refresh while the kernel still held them: their old tree.
  std::unordered_map<NodeId, std::shared_ptr<const Tree>> orphans_;
  std::unordered_map<uint64_t, std::shared_ptr<OpenFile>> handles_;
  uint64_t next_handle_ = 1;
  // Per hub: the last listing's time and error (hub_states_ without the listings), set by
  // Refresh with the tree, so status needs no refresh_mu_.
  std::vector<HubStatus> hub_status_;

  mutable std::mutex errors_mu_;  // guards the two members below
  std::deque<RecordedError> errors_;
  std::map<std::string, uint64_t> errors_by_kind_;
};

}  // namespace hubfs::fs
