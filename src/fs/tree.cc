#include "hubfs/fs/tree.h"

#include <algorithm>

namespace hubfs::fs {
namespace {

std::string IndexKey(NodeId parent, std::string_view name) {
  std::string key = std::to_string(parent);
  key.push_back('/');
  key.append(name);
  return key;
}

std::string JoinPath(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out;
}

}  // namespace

Tree::Tree(int64_t mtime) {
  Node root;
  root.id = kRootId;
  root.parent = kRootId;
  root.kind = hubs::EntryKind::kDirectory;
  root.mtime = mtime;
  nodes_.push_back(std::move(root));
}

NodeId Tree::AddNode(NodeId parent, const std::string& name, hubs::EntryKind kind, int64_t mtime) {
  Node node;
  node.id = nodes_.size() + 1;
  node.parent = parent;
  node.name = name;
  node.kind = kind;
  node.mtime = mtime;
  node.hub = current_hub_;
  nodes_.push_back(std::move(node));
  nodes_[parent - 1].children.push_back(nodes_.back().id);
  index_.emplace(IndexKey(parent, name), nodes_.back().id);
  return nodes_.back().id;
}

// Returns the folder for `dirs` below /<hub>/, creating it; 0 when a file is in the way.
NodeId Tree::DirFor(const std::string& hub, const std::vector<std::string>& dirs, int64_t mtime) {
  NodeId at = kRootId;
  auto step = [&](const std::string& name) {
    if (const Node* child = Child(at, name)) {
      at = child->kind == hubs::EntryKind::kDirectory ? child->id : 0;
    } else {
      at = AddNode(at, name, hubs::EntryKind::kDirectory, mtime);
    }
  };
  step(hub);
  for (const auto& d : dirs) {
    if (at == 0) break;
    step(d);
  }
  return at;
}

void Tree::AddHub(const std::string& hub, const hubs::Listing& listing,
                  std::vector<std::string>* warnings, uint32_t hub_index) {
  current_hub_ = hub_index;
  DirFor(hub, {}, listing.mtime);
  for (const hubs::Entry& entry : listing.entries) {
    if (entry.path.empty()) continue;
    std::vector<std::string> dirs(entry.path.begin(), entry.path.end() - 1);
    const std::string& name = entry.path.back();
    NodeId dir = DirFor(hub, dirs, listing.mtime);
    if (dir == 0 || Child(dir, name) != nullptr) {
      if (entry.kind == hubs::EntryKind::kDirectory && dir != 0 &&
          Child(dir, name)->kind == hubs::EntryKind::kDirectory) {
        continue;  // the same folder twice is fine
      }
      warnings->push_back("skipped /" + hub + JoinPath(entry.path) + ": the name is already taken");
      continue;
    }
    NodeId id = AddNode(dir, name, entry.kind, listing.mtime);
    Node& node = nodes_[id - 1];
    node.remote = entry.remote;
    node.content = entry.content;
    if (entry.kind == hubs::EntryKind::kFile) {
      node.size = entry.remote ? entry.remote->size.value_or(0) : entry.content.size();
    } else if (entry.kind == hubs::EntryKind::kSymlink) {
      node.size = entry.content.size();
    }
  }
}

void Tree::AddHubError(const std::string& hub, const std::string& message, int64_t mtime,
                       uint32_t hub_index) {
  current_hub_ = hub_index;
  NodeId dir = DirFor(hub, {}, mtime);
  if (dir == 0 || Child(dir, kErrorFileName)) return;
  NodeId id = AddNode(dir, kErrorFileName, hubs::EntryKind::kFile, mtime);
  Node& node = nodes_[id - 1];
  node.content = message;
  if (node.content.empty() || node.content.back() != '\n') node.content.push_back('\n');
  node.size = node.content.size();
}

void Tree::Finish() {
  for (Node& node : nodes_) {
    std::sort(node.children.begin(), node.children.end(),
              [this](NodeId a, NodeId b) { return nodes_[a - 1].name < nodes_[b - 1].name; });
  }
}

const Node* Tree::Get(NodeId id) const {
  if (id == 0 || id > nodes_.size()) return nullptr;
  return &nodes_[id - 1];
}

const Node* Tree::Child(NodeId parent, std::string_view name) const {
  auto it = index_.find(IndexKey(parent, name));
  return it == index_.end() ? nullptr : &nodes_[it->second - 1];
}

}  // namespace hubfs::fs
