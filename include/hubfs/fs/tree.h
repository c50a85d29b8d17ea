// Tree: the mount's namespace, built once from every hub's listing.
//
//   /                       one folder per hub
//   /<hub>/…                the hub's entries (hubs/hub.h)
//   /<hub>/ERROR.txt        when the hub could not be listed: why, in words
//   /by-framework/…         the models of every hub by framework (framework_view.h)
//
// A Tree is immutable once built, so lookups need no lock; a refresh builds a new one. Node ids
// are inode numbers (root = 1), given by an InodeNumbers table: trees built with the same table
// give unchanged entries the same ids (inode_numbers.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hubfs/archive/archive.h"
#include "hubfs/fs/archive_views.h"
#include "hubfs/fs/inode_numbers.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::fs {

inline constexpr char kErrorFileName[] = "ERROR.txt";
inline constexpr char kStatusFolder[] = ".hubfs";  // the daemon's own files: stats, errors, config

struct Node {
  NodeId id = 0;
  NodeId parent = 0;
  std::string name;
  hubs::EntryKind kind = hubs::EntryKind::kDirectory;
  uint64_t size = 0;
  int64_t mtime = 0;
  std::optional<hubs::RemoteObject> remote;  // files with downloadable content
  std::string content;                       // generated files: bytes; symlinks: target
  bool dynamic = false;                      // generated at each open (.hubfs/stats): content names it
  std::vector<NodeId> children;              // directories, sorted by name
  uint32_t subdirs = 0;                      // directories: how many children are directories
  uint32_t hub = 0;                          // index of the hub (Tree::AddHub order) it belongs to
  // Folders that unpack an archive (archive_views.h): the archive, and whether its members are
  // in this tree (false: not indexed yet; looking inside indexes it and rebuilds the tree).
  std::optional<hubs::RemoteObject> archive;
  bool archive_indexed = false;
  // Files inside such a folder: the member they are (size = member size; `remote` is unset).
  std::shared_ptr<const ArchiveMemberRef> member;
  std::string framework;                     // model files: hubs::Entry::framework ("" otherwise)
};

// The known index of an archive, or nullptr (ArchiveViews::Known).
using ArchiveIndexLookup = std::function<std::shared_ptr<const archive::Index>(const hubs::RemoteObject&)>;

class Tree {
 public:
  // `numbers` must outlive the tree; without one, the tree numbers its nodes by itself.
  explicit Tree(int64_t mtime, InodeNumbers* numbers = nullptr);

  // Adds /<hub>/ with the listing's entries. Entries that conflict with an earlier one (a file
  // where a folder is, or a second entry of the same name) are skipped, with one warning each.
  // `hub_index` is stored in every node added (Node::hub). With `archives`, every archive file
  // (archive::IsArchiveName) gets a folder named after its stem beside it, unless the name is
  // taken, holding the archive's members when `archives` knows its index.
  void AddHub(const std::string& hub, const hubs::Listing& listing, std::vector<std::string>* warnings,
              uint32_t hub_index = 0, const ArchiveIndexLookup& archives = nullptr);
  // Adds /<hub>/ERROR.txt explaining why the hub has no listing.
  void AddHubError(const std::string& hub, const std::string& message, int64_t mtime,
                   uint32_t hub_index = 0);
  // Adds a file the daemon generates at `path` below the root (e.g. {".hubfs", "stats"}), with
  // fixed `content`, or, when `dynamic`, content made at each open (`content` then names it).
  // Skipped with a warning when the name is taken.
  void AddGenerated(const std::vector<std::string>& path, std::string content, bool dynamic, int64_t mtime,
                    std::vector<std::string>* warnings);
  // Sorts children; call once after the last Add.
  void Finish();
  // After Finish: entries that did not change since `before` keep its mtimes (a refresh that
  // found the same listing must not look like new files to make or rsync); a folder whose
  // entries changed keeps the new time.
  void KeepTimes(const Tree& before);

  const Node* Get(NodeId id) const;
  const Node* Child(NodeId parent, std::string_view name) const;
  size_t size() const { return nodes_.size(); }
  // Every node, in the order they were added (the root first).
  const std::vector<Node>& nodes() const { return nodes_; }

 private:
  NodeId AddNode(NodeId parent, const std::string& name, hubs::EntryKind kind, int64_t mtime,
                 std::string_view identity);
  NodeId DirFor(const std::string& hub, const std::vector<std::string>& dirs, int64_t mtime);
  // The folder `dirs` below `base`, created as needed; 0 when a file is in the way.
  NodeId DirBelow(NodeId base, const std::vector<std::string>& dirs, int64_t mtime);
  // The unpacked folders of the archive files among nodes_[first..] (AddHub).
  void AddArchiveViews(size_t first, int64_t mtime, const ArchiveIndexLookup& archives);
  void AddMembers(NodeId folder, const hubs::RemoteObject& archive, const archive::Index& index, int64_t mtime);
  uint32_t current_hub_ = 0;  // stamped on nodes while a hub is being added

  std::unique_ptr<InodeNumbers> own_numbers_;  // when none was given
  InodeNumbers* numbers_;
  std::vector<Node> nodes_;
  std::unordered_map<NodeId, size_t> slot_;  // id -> index in nodes_
  // (parent id, name) -> child id
  std::unordered_map<std::string, NodeId> index_;
};

// What the kernel must forget after the tree changed from `before` to `after`: names whose
// entry changed, appeared (the kernel may remember their absence) or vanished, and folders
// whose list of children changed.
struct TreeChanges {
  std::vector<std::pair<NodeId, std::string>> entries;  // (folder, name)
  std::vector<NodeId> folders;
  size_t added = 0, removed = 0, changed = 0;
};
TreeChanges DiffTrees(const Tree& before, const Tree& after);

}  // namespace hubfs::fs
