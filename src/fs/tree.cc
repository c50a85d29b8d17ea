#include "hubfs/fs/tree.h"

#include <algorithm>
#include <functional>
#include <map>

#include "hubfs/core/names.h"

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

// What an entry is, for InodeNumbers: a file keeps its inode number only while its bytes would
// be the same (same source and published digest/size, or same generated text).
std::string IdentityOf(const hubs::Entry& entry) {
  switch (entry.kind) {
    case hubs::EntryKind::kDirectory:
      return "d";
    case hubs::EntryKind::kSymlink:
      return "l" + entry.content;
    case hubs::EntryKind::kFile:
      break;
  }
  if (entry.remote) {
    const hubs::RemoteObject& r = *entry.remote;
    return "r" + r.url + '\0' + (r.sha256 ? ToHex(*r.sha256) : "") + '\0' +
           (r.size ? std::to_string(*r.size) : "");
  }
  return "c" + std::to_string(entry.content.size()) + ":" +
         std::to_string(std::hash<std::string>{}(entry.content));
}

}  // namespace

Tree::Tree(int64_t mtime, InodeNumbers* numbers) : numbers_(numbers) {
  if (!numbers_) {
    own_numbers_ = std::make_unique<InodeNumbers>();
    numbers_ = own_numbers_.get();
  }
  Node root;
  root.id = kRootId;
  root.parent = kRootId;
  root.kind = hubs::EntryKind::kDirectory;
  root.mtime = mtime;
  nodes_.push_back(std::move(root));
  slot_.emplace(kRootId, 0);
}

NodeId Tree::AddNode(NodeId parent, const std::string& name, hubs::EntryKind kind, int64_t mtime,
                     std::string_view identity) {
  Node node;
  node.id = numbers_->For(parent, name, identity);
  node.parent = parent;
  node.name = name;
  node.kind = kind;
  node.mtime = mtime;
  node.hub = current_hub_;
  const NodeId id = node.id;
  nodes_.push_back(std::move(node));
  slot_.emplace(id, nodes_.size() - 1);
  nodes_[slot_.at(parent)].children.push_back(id);
  index_.emplace(IndexKey(parent, name), id);
  return id;
}

// Returns the folder for `dirs` below /<hub>/, creating it; 0 when a file is in the way.
NodeId Tree::DirFor(const std::string& hub, const std::vector<std::string>& dirs, int64_t mtime) {
  return DirBelow(DirBelow(kRootId, {hub}, mtime), dirs, mtime);
}

NodeId Tree::DirBelow(NodeId base, const std::vector<std::string>& dirs, int64_t mtime) {
  NodeId at = base;
  for (const auto& name : dirs) {
    if (at == 0) break;
    if (const Node* child = Child(at, name)) {
      at = child->kind == hubs::EntryKind::kDirectory ? child->id : 0;
    } else {
      at = AddNode(at, name, hubs::EntryKind::kDirectory, mtime, "d");
    }
  }
  return at;
}

void Tree::AddHub(const std::string& hub, const hubs::Listing& listing,
                  std::vector<std::string>* warnings, uint32_t hub_index, const ArchiveIndexLookup& archives) {
  current_hub_ = hub_index;
  DirFor(hub, {}, listing.mtime);
  const size_t first = nodes_.size();
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
    NodeId id = AddNode(dir, name, entry.kind, listing.mtime, IdentityOf(entry));
    Node& node = nodes_[slot_.at(id)];
    node.remote = entry.remote;
    node.content = entry.content;
    node.framework = entry.framework;
    if (entry.kind == hubs::EntryKind::kFile) {
      node.size = entry.remote ? entry.remote->size.value_or(0) : entry.content.size();
    } else if (entry.kind == hubs::EntryKind::kSymlink) {
      node.size = entry.content.size();
    }
  }
  if (archives) AddArchiveViews(first, listing.mtime, archives);
}

void Tree::AddArchiveViews(size_t first, int64_t mtime, const ArchiveIndexLookup& archives) {
  const size_t end = nodes_.size();  // the folders added below are not archives themselves
  for (size_t i = first; i < end; ++i) {
    std::string stem;
    if (nodes_[i].kind != hubs::EntryKind::kFile || !nodes_[i].remote ||
        !archive::IsArchiveName(nodes_[i].name, &stem) || !IsSafeName(stem) || Child(nodes_[i].parent, stem)) {
      continue;
    }
    const hubs::RemoteObject archive = *nodes_[i].remote;
    const NodeId folder = AddNode(nodes_[i].parent, stem, hubs::EntryKind::kDirectory, mtime, "d");
    nodes_[slot_.at(folder)].archive = archive;
    if (auto index = archives(archive)) {
      nodes_[slot_.at(folder)].archive_indexed = true;
      AddMembers(folder, archive, *index, mtime);
    }
  }
}

void Tree::AddMembers(NodeId folder, const hubs::RemoteObject& archive, const archive::Index& index, int64_t mtime) {
  const std::string source = archive.url + '\0' + (archive.sha256 ? ToHex(*archive.sha256) : "") + '\0';
  if (!index.refused.empty()) {
    const std::string text = "hubfs did not unpack " + archive.url + ":\n" + index.refused +
                             "\n\nThe limits are archive_max_members, archive_max_bytes and archive_max_ratio "
                             "in the configuration.\n";
    const NodeId id = AddNode(folder, kErrorFileName, hubs::EntryKind::kFile, mtime, "c" + text);
    nodes_[slot_.at(id)].content = text;
    nodes_[slot_.at(id)].size = text.size();
    return;
  }
  for (const archive::Member& m : index.members) {
    const NodeId dir = DirBelow(folder, {m.path.begin(), m.path.end() - 1}, mtime);
    const std::string& name = m.path.back();
    if (dir == 0 || Child(dir, name)) continue;  // a folder member repeating an implied folder
    switch (m.kind) {
      case archive::MemberKind::kDirectory:
        DirBelow(dir, {name}, mtime);
        break;
      case archive::MemberKind::kSymlink: {
        const NodeId id = AddNode(dir, name, hubs::EntryKind::kSymlink, mtime, "l" + m.link_target);
        nodes_[slot_.at(id)].content = m.link_target;
        nodes_[slot_.at(id)].size = m.link_target.size();
        break;
      }
      case archive::MemberKind::kFile: {
        const NodeId id = AddNode(dir, name, hubs::EntryKind::kFile, mtime,
                                  "m" + source + std::to_string(m.ordinal) + ":" + std::to_string(m.size));
        Node& node = nodes_[slot_.at(id)];
        node.size = m.size;
        if (m.size > 0) node.member = std::make_shared<const ArchiveMemberRef>(ArchiveMemberRef{archive, m});
        break;
      }
    }
  }
}

void Tree::AddHubError(const std::string& hub, const std::string& message, int64_t mtime,
                       uint32_t hub_index) {
  current_hub_ = hub_index;
  NodeId dir = DirFor(hub, {}, mtime);
  if (dir == 0 || Child(dir, kErrorFileName)) return;
  hubs::Entry entry;
  entry.content = message;
  if (entry.content.empty() || entry.content.back() != '\n') entry.content.push_back('\n');
  NodeId id = AddNode(dir, kErrorFileName, hubs::EntryKind::kFile, mtime, IdentityOf(entry));
  Node& node = nodes_[slot_.at(id)];
  node.content = std::move(entry.content);
  node.size = node.content.size();
}

void Tree::AddGenerated(const std::vector<std::string>& path, std::string content, bool dynamic,
                        int64_t mtime, std::vector<std::string>* warnings) {
  if (path.empty()) return;
  NodeId dir = kRootId;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const Node* child = Child(dir, path[i]);
    if (!child) {
      dir = AddNode(dir, path[i], hubs::EntryKind::kDirectory, mtime, "d");
    } else if (child->kind == hubs::EntryKind::kDirectory) {
      dir = child->id;
    } else {
      warnings->push_back("skipped /" + JoinPath(path).substr(1) + ": the name is already taken");
      return;
    }
  }
  if (Child(dir, path.back())) {
    warnings->push_back("skipped " + JoinPath(path) + ": the name is already taken");
    return;
  }
  const std::string identity = dynamic ? "dyn:" + content : "c" + std::to_string(std::hash<std::string>{}(content));
  NodeId id = AddNode(dir, path.back(), hubs::EntryKind::kFile, mtime, identity);
  Node& node = nodes_[slot_.at(id)];
  node.dynamic = dynamic;
  node.size = dynamic ? 0 : content.size();
  node.content = std::move(content);
}

void Tree::Finish() {
  for (Node& node : nodes_) {
    std::sort(node.children.begin(), node.children.end(),
              [this](NodeId a, NodeId b) { return Get(a)->name < Get(b)->name; });
    node.subdirs = 0;
    for (NodeId child : node.children) node.subdirs += Get(child)->kind == hubs::EntryKind::kDirectory;
  }
}

void Tree::KeepTimes(const Tree& before) {
  for (Node& node : nodes_) {
    const Node* old = before.Get(node.id);
    if (!old) continue;  // new (or changed, hence new number)
    if (node.kind == hubs::EntryKind::kDirectory && old->children != node.children) continue;
    node.mtime = old->mtime;
  }
}

const Node* Tree::Get(NodeId id) const {
  auto it = slot_.find(id);
  return it == slot_.end() ? nullptr : &nodes_[it->second];
}

const Node* Tree::Child(NodeId parent, std::string_view name) const {
  auto it = index_.find(IndexKey(parent, name));
  return it == index_.end() ? nullptr : Get(it->second);
}

TreeChanges DiffTrees(const Tree& before, const Tree& after) {
  TreeChanges changes;
  auto children = [](const Tree& tree, const Node& dir) {
    std::map<std::string_view, NodeId> out;
    for (NodeId id : dir.children) out.emplace(tree.Get(id)->name, id);
    return out;
  };
  for (const Node& old_dir : before.nodes()) {
    if (old_dir.kind != hubs::EntryKind::kDirectory) continue;
    const Node* new_dir = after.Get(old_dir.id);
    if (!new_dir) continue;  // gone: its parent's entry covers it
    const auto old_children = children(before, old_dir);
    const auto new_children = children(after, *new_dir);
    bool differs = false;
    for (const auto& [name, id] : old_children) {
      auto it = new_children.find(name);
      if (it == new_children.end()) {
        changes.removed++;
      } else if (it->second != id) {
        changes.changed++;
      } else {
        continue;
      }
      differs = true;
      changes.entries.emplace_back(old_dir.id, std::string(name));
    }
    for (const auto& [name, id] : new_children) {
      if (old_children.count(name)) continue;
      changes.added++;
      differs = true;
      changes.entries.emplace_back(old_dir.id, std::string(name));
    }
    if (differs) changes.folders.push_back(old_dir.id);
  }
  return changes;
}

}  // namespace hubfs::fs
