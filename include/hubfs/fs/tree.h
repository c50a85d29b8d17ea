// Tree: the mount's namespace, built once from every hub's listing.
//
//   /                       one folder per hub
//   /<hub>/…                the hub's entries (hubs/hub.h)
//   /<hub>/ERROR.txt        when the hub could not be listed: why, in words
//
// A Tree is immutable once built, so lookups need no lock; a refresh builds a new one.
// Node ids are dense (root = 1) and double as inode numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hubfs/hubs/hub.h"

namespace hubfs::fs {

using NodeId = uint64_t;
inline constexpr NodeId kRootId = 1;
inline constexpr char kErrorFileName[] = "ERROR.txt";

struct Node {
  NodeId id = 0;
  NodeId parent = 0;
  std::string name;
  hubs::EntryKind kind = hubs::EntryKind::kDirectory;
  uint64_t size = 0;
  int64_t mtime = 0;
  std::optional<hubs::RemoteObject> remote;  // files with downloadable content
  std::string content;                       // generated files: bytes; symlinks: target
  std::vector<NodeId> children;              // directories, sorted by name
  uint32_t hub = 0;                          // index of the hub (Tree::AddHub order) it belongs to
};

class Tree {
 public:
  explicit Tree(int64_t mtime);

  // Adds /<hub>/ with the listing's entries. Entries that conflict with an earlier one (a file
  // where a folder is, or a second entry of the same name) are skipped, with one warning each.
  // `hub_index` is stored in every node added (Node::hub).
  void AddHub(const std::string& hub, const hubs::Listing& listing, std::vector<std::string>* warnings,
              uint32_t hub_index = 0);
  // Adds /<hub>/ERROR.txt explaining why the hub has no listing.
  void AddHubError(const std::string& hub, const std::string& message, int64_t mtime,
                   uint32_t hub_index = 0);
  // Sorts children; call once after the last Add.
  void Finish();

  const Node* Get(NodeId id) const;
  const Node* Child(NodeId parent, std::string_view name) const;
  size_t size() const { return nodes_.size(); }

 private:
  NodeId AddNode(NodeId parent, const std::string& name, hubs::EntryKind kind, int64_t mtime);
  NodeId DirFor(const std::string& hub, const std::vector<std::string>& dirs, int64_t mtime);
  uint32_t current_hub_ = 0;  // stamped on nodes while a hub is being added

  std::vector<Node> nodes_;  // nodes_[id - 1]
  // (parent id, name) -> child id
  std::unordered_map<std::string, NodeId> index_;
};

}  // namespace hubfs::fs
