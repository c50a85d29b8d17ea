#include "hubfs/fs/filesystem.h"

#include <sys/stat.h>

#include <cstring>
#include <ctime>

#include "hubfs/core/logging.h"

namespace hubfs::fs {

struct Filesystem::OpenFile {
  const Node* node = nullptr;
  std::unique_ptr<ReadEngine::File> remote;  // files with downloadable content
};

Filesystem::Filesystem(std::vector<hubs::Hub*> hubs, ReadEngine& engine, FsOptions options)
    : hubs_(std::move(hubs)), engine_(engine), options_(std::move(options)),
      tree_(std::make_shared<Tree>(static_cast<int64_t>(std::time(nullptr)))) {}

void Filesystem::Load() {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  auto tree = std::make_shared<Tree>(now);
  for (uint32_t index = 0; index < hubs_.size(); ++index) {
    hubs::Hub* hub = hubs_[index];
    auto listing = hub->List(hubs::ListOptions{});
    if (!listing) {
      HUBFS_LOG_ERROR("hub {}: cannot list: {}", hub->name(), listing.error().ToString());
      tree->AddHubError(hub->name(),
                        "hubfs could not list the hub '" + hub->name() + "'.\n\n" +
                            listing.error().message() +
                            "\n\nNo usable copy of its index is cached. Check the hub's URLs "
                            "in the configuration and that the server is reachable, then remount.",
                        now, index);
      continue;
    }
    std::vector<std::string> warnings;
    tree->AddHub(hub->name(), *listing, &warnings, index);
    for (const auto& w : warnings) HUBFS_LOG_WARN("hub {}: {}", hub->name(), w);
  }
  tree->Finish();
  tree_ = std::move(tree);
}

Attr Filesystem::AttrOf(const Node& node) const {
  Attr a;
  a.ino = node.id;
  a.size = node.size;
  a.mtime = node.mtime;
  a.uid = options_.uid;
  a.gid = options_.gid;
  switch (node.kind) {
    case hubs::EntryKind::kDirectory:
      a.mode = S_IFDIR | 0555;
      a.nlink = 2;
      break;
    case hubs::EntryKind::kFile:
      a.mode = S_IFREG | 0444;
      break;
    case hubs::EntryKind::kSymlink:
      a.mode = S_IFLNK | 0777;
      break;
  }
  return a;
}

Result<Attr> Filesystem::Lookup(NodeId parent, std::string_view name) {
  const Node* dir = tree_->Get(parent);
  if (!dir) return Status::NotFound("no inode " + std::to_string(parent));
  if (dir->kind != hubs::EntryKind::kDirectory) return Status::InvalidArgument("not a folder");
  const Node* child = tree_->Child(parent, name);
  if (!child) return Status::NotFound(std::string(name));
  std::lock_guard lock(mu_);
  lookups_[child->id]++;
  return AttrOf(*child);
}

void Filesystem::Forget(NodeId ino, uint64_t count) {
  std::lock_guard lock(mu_);
  auto it = lookups_.find(ino);
  if (it == lookups_.end()) return;
  it->second = it->second > count ? it->second - count : 0;
  if (it->second == 0) lookups_.erase(it);
}

uint64_t Filesystem::LookupCount(NodeId ino) const {
  std::lock_guard lock(mu_);
  auto it = lookups_.find(ino);
  return it == lookups_.end() ? 0 : it->second;
}

Result<Attr> Filesystem::GetAttr(NodeId ino) {
  const Node* node = tree_->Get(ino);
  if (!node) return Status::NotFound("no inode " + std::to_string(ino));
  return AttrOf(*node);
}

Status Filesystem::ReadDir(NodeId ino, uint64_t offset,
                           const std::function<bool(const DirEntry&, uint64_t)>& add) {
  const Node* dir = tree_->Get(ino);
  if (!dir) return Status::NotFound("no inode " + std::to_string(ino));
  if (dir->kind != hubs::EntryKind::kDirectory) return Status::InvalidArgument("not a folder");
  const uint64_t total = dir->children.size() + 2;
  for (uint64_t i = offset; i < total; ++i) {
    DirEntry entry;
    if (i == 0) {
      entry = {".", dir->id, S_IFDIR};
    } else if (i == 1) {
      entry = {"..", dir->parent, S_IFDIR};
    } else {
      const Node* child = tree_->Get(dir->children[i - 2]);
      entry = {child->name, child->id, AttrOf(*child).mode};
    }
    if (!add(entry, i + 1)) break;
  }
  return Status();
}

Result<std::string> Filesystem::ReadLink(NodeId ino) {
  const Node* node = tree_->Get(ino);
  if (!node) return Status::NotFound("no inode " + std::to_string(ino));
  if (node->kind != hubs::EntryKind::kSymlink) return Status::InvalidArgument("not a symlink");
  return node->content;
}

Result<OpenResult> Filesystem::Open(NodeId ino) {
  const Node* node = tree_->Get(ino);
  if (!node) return Status::NotFound("no inode " + std::to_string(ino));
  if (node->kind != hubs::EntryKind::kFile) return Status::InvalidArgument("not a file");
  auto file = std::make_shared<OpenFile>();
  file->node = node;
  OpenResult result{0, true, false};  // generated text is immutable for the tree's life
  if (node->remote) {
    const Verification policy = node->hub < options_.verification.size()
                                    ? options_.verification[node->hub]
                                    : Verification::kStrict;
    HUBFS_ASSIGN_OR_RETURN(file->remote, engine_.Open(*node->remote, policy));
    result.keep_cache = file->remote->immutable();
    // The size was not published (st_size shows 0): the kernel must pass reads through to EOF.
    result.direct_io = !node->remote->size;
  }
  std::lock_guard lock(mu_);
  result.handle = next_handle_++;
  handles_.emplace(result.handle, std::move(file));
  return result;
}

std::shared_ptr<Filesystem::OpenFile> Filesystem::FindHandle(uint64_t handle) const {
  std::lock_guard lock(mu_);
  auto it = handles_.find(handle);
  return it == handles_.end() ? nullptr : it->second;
}

Result<size_t> Filesystem::Read(uint64_t handle, uint64_t offset, size_t size, char* buf) {
  auto file = FindHandle(handle);
  if (!file) return Status::InvalidArgument("unknown file handle");
  const Node& node = *file->node;
  if (!node.remote) {
    if (offset >= node.content.size()) return size_t{0};
    size_t n = std::min<uint64_t>(size, node.content.size() - offset);
    std::memcpy(buf, node.content.data() + offset, n);
    return n;
  }
  return engine_.Read(*file->remote, offset, size, buf);  // no lock held: may take long
}

void Filesystem::Release(uint64_t handle) {
  std::lock_guard lock(mu_);
  handles_.erase(handle);
}

FsStats Filesystem::Stats() const {
  std::lock_guard lock(mu_);
  return FsStats{tree_->size(), handles_.size()};
}

}  // namespace hubfs::fs

namespace hubfs::fs {

Result<std::vector<std::string>> Filesystem::ListXattr(NodeId ino) {
  const Node* node = tree_->Get(ino);
  if (!node) return Status::NotFound("no inode " + std::to_string(ino));
  if (!node->remote) return std::vector<std::string>{};
  std::vector<std::string> names = {"user.hubfs.source", "user.hubfs.cached_bytes", "user.hubfs.verified",
                                    "user.hubfs.pinned", "user.hubfs.cache_key", "user.hubfs.cache_dir"};
  if (GetXattr(ino, "user.hubfs.sha256").ok()) names.insert(names.begin(), "user.hubfs.sha256");
  return names;
}

Result<std::string> Filesystem::GetXattr(NodeId ino, std::string_view name) {
  const Node* node = tree_->Get(ino);
  if (!node) return Status::NotFound("no inode " + std::to_string(ino));
  if (!node->remote || name.substr(0, 11) != "user.hubfs.") {
    return Status::NotFound("no attribute " + std::string(name));
  }
  const hubs::RemoteObject& remote = *node->remote;
  const std::string key = ReadEngine::KeyFor(remote);
  if (name == "user.hubfs.source") return remote.url;
  if (name == "user.hubfs.cache_key") return key;
  if (name == "user.hubfs.cache_dir") return engine_.cache().dir();
  HUBFS_ASSIGN_OR_RETURN(auto record, engine_.cache().GetBlob(key));
  if (name == "user.hubfs.sha256") {
    if (remote.sha256) return ToHex(*remote.sha256);
    if (record && record->sha256) return ToHex(*record->sha256);  // pinned on first use
    return Status::NotFound("no sha256 yet");
  }
  if (name == "user.hubfs.cached_bytes") return std::to_string(record ? record->cached_bytes : 0);
  if (name == "user.hubfs.pinned") return std::string(record && record->pinned ? "yes" : "no");
  if (name == "user.hubfs.verified") {
    if (!record) return std::string("no");
    switch (record->state) {
      case cache::BlobState::kVerified: return std::string("yes");
      case cache::BlobState::kPoisoned: return std::string("poisoned");
      case cache::BlobState::kPartial: return std::string("no");
    }
  }
  return Status::NotFound("no attribute " + std::string(name));
}

}  // namespace hubfs::fs
