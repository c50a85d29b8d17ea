#include "hubfs/fs/filesystem.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <ctime>

#include "hubfs/core/logging.h"
#include "hubfs/fs/framework_view.h"
#include "status_files.h"

namespace hubfs::fs {

struct Filesystem::OpenFile {
  std::shared_ptr<const Tree> tree;  // keeps `node` alive across refreshes
  const Node* node = nullptr;
  std::string snapshot;  // dynamic files: the content made at open
  std::unique_ptr<ReadEngine::File> remote;  // files with downloadable content
  uint64_t offset = 0;  // archive members served from the archive's own blob: where they start
};

Filesystem::Filesystem(std::vector<hubs::Hub*> hubs, ReadEngine& engine, FsOptions options,
                       RemoteSizes* sizes)
    : hubs_(std::move(hubs)), engine_(engine), options_(std::move(options)), sizes_(sizes),
      tree_(std::make_shared<const Tree>(static_cast<int64_t>(std::time(nullptr)), &numbers_)),
      hub_states_(hubs_.size()) {}

void Filesystem::Load() { (void)Refresh({}, hubs::ListOptions{}); }

std::vector<std::string> Filesystem::HubNames() const {
  std::vector<std::string> names;
  for (const hubs::Hub* hub : hubs_) names.push_back(hub->name());
  return names;
}

Result<RefreshResult> Filesystem::Refresh(const std::vector<std::string>& names,
                                          const hubs::ListOptions& options) {
  std::vector<bool> selected(hubs_.size(), names.empty());
  for (const std::string& name : names) {
    bool found = false;
    for (size_t i = 0; i < hubs_.size(); ++i) {
      if (hubs_[i]->name() == name) selected[i] = found = true;
    }
    if (!found) {
      std::string known;
      for (const auto& n : HubNames()) known += (known.empty() ? "" : ", ") + n;
      return Status::NotFound("no hub named '" + name + "' (hubs: " + known + ")");
    }
  }
  std::lock_guard refreshing(refresh_mu_);
  RefreshResult result;
  for (size_t i = 0; i < hubs_.size(); ++i) {
    if (!selected[i]) continue;
    hubs::Hub* hub = hubs_[i];
    result.hubs.push_back(hub->name());
    auto listing = hub->List(options);  // network I/O: only refresh_mu_ is held
    if (listing) {
      hub_states_[i] = HubState{std::move(listing).value(), ""};
      continue;
    }
    HUBFS_LOG_ERROR("hub {}: cannot list: {}", hub->name(), listing.error().ToString());
    result.errors.push_back(hub->name() + ": " + listing.error().message());
    hub_states_[i].error = listing.error().message();
  }
  RefreshResult swapped = SwapTree(selected);
  swapped.hubs = std::move(result.hubs);
  swapped.errors = std::move(result.errors);
  if (sizes_ && options.refresh) sizes_->Expire();
  return swapped;
}

RefreshResult Filesystem::SwapTree(const std::vector<bool>& selected) {
  RefreshResult result;
  ArchiveIndexLookup archives;
  if (archives_) archives = [this](const hubs::RemoteObject& archive) { return archives_->Known(archive); };
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  auto tree = std::make_shared<Tree>(now, &numbers_);
  for (uint32_t index = 0; index < hubs_.size(); ++index) {
    const std::string& name = hubs_[index]->name();
    const HubState& state = hub_states_[index];
    if (!state.listing) {
      tree->AddHubError(name,
                        "hubfs could not list the hub '" + name + "'.\n\n" + state.error +
                            "\n\nNo usable copy of its index is cached. Check the hub's URLs "
                            "in the configuration and that the server is reachable, then run "
                            "hubfs refresh " + name + " (or remount).",
                        now, index);
      continue;
    }
    std::vector<std::string> warnings;
    tree->AddHub(name, *state.listing, &warnings, index, archives);
    if (selected[index]) {
      for (const auto& w : warnings) HUBFS_LOG_WARN("hub {}: {}", name, w);
    }
  }
  if (options_.by_framework) {
    std::vector<FrameworkViewSource> sources;
    for (uint32_t index = 0; index < hubs_.size(); ++index) {
      if (hub_states_[index].listing) sources.push_back({index, hubs_[index]->name(), &*hub_states_[index].listing});
    }
    std::vector<std::string> warnings;
    AddFrameworkView(sources, now, tree.get(), &warnings, archives);
    for (const auto& w : warnings) HUBFS_LOG_WARN("{}", w);
  }
  {
    // The daemon's own files (docs/architecture.md, "The .hubfs folder").
    std::vector<std::string> warnings;
    tree->AddGenerated({kStatusFolder, "stats"}, "stats", /*dynamic=*/true, now, &warnings);
    tree->AddGenerated({kStatusFolder, "errors"}, "errors", /*dynamic=*/true, now, &warnings);
    tree->AddGenerated({kStatusFolder, "config"}, options_.config_text, /*dynamic=*/false, now, &warnings);
    for (const auto& w : warnings) HUBFS_LOG_WARN("{}", w);
  }
  tree->Finish();

  std::shared_ptr<const Tree> before = tree_.load();
  tree->KeepTimes(*before);
  result.changes = DiffTrees(*before, *tree);
  result.nodes = tree->size();
  {
    std::lock_guard lock(mu_);
    for (const auto& [ino, count] : lookups_) {
      const Node* old = before->Get(ino);
      const Node* now_node = tree->Get(ino);
      if (old && !now_node && !orphans_.count(ino)) orphans_.emplace(ino, before);
      if (now_node && selected[now_node->hub] && now_node->remote && !now_node->remote->size) {
        result.unsized.push_back(ino);
      }
    }
    hub_status_.assign(hubs_.size(), HubStatus{});
    for (size_t i = 0; i < hubs_.size(); ++i) {
      hub_status_[i].listed_at = hub_states_[i].listing ? hub_states_[i].listing->mtime : 0;
      hub_status_[i].error = hub_states_[i].error;
    }
    tree_.store(std::move(tree));
  }
  return result;
}

Status Filesystem::IndexArchive(NodeId ino) {
  NodeRef ref = Find(ino);
  if (!ref || !ref.node->archive || ref.node->archive_indexed || !archives_) return Status();
  HUBFS_ASSIGN_OR_RETURN(auto index, archives_->Index(*ref.node->archive));  // may download: no lock held
  (void)index;
  RefreshResult changed;
  {
    std::lock_guard refreshing(refresh_mu_);
    changed = SwapTree(std::vector<bool>(hubs_.size(), false));
  }
  if (listener_) listener_(changed);
  return Status();
}

Filesystem::NodeRef Filesystem::Find(NodeId ino) const {
  NodeRef ref{tree_.load(), nullptr};
  ref.node = ref.tree->Get(ino);
  if (ref.node) return ref;
  std::lock_guard lock(mu_);
  auto it = orphans_.find(ino);
  if (it == orphans_.end()) return NodeRef{};
  return NodeRef{it->second, it->second->Get(ino)};
}

Attr Filesystem::AttrOf(const Node& node, bool learn_size) const {
  Attr a;
  a.ino = node.id;
  a.size = node.size;
  a.mtime = node.mtime;
  a.uid = options_.uid;
  a.gid = options_.gid;
  a.timeout = options_.entry_timeout;
  switch (node.kind) {
    case hubs::EntryKind::kDirectory:
      a.mode = S_IFDIR | 0555;
      a.nlink = 2 + node.subdirs;  // as on disk: find(1) relies on it to skip leaf folders
      break;
    case hubs::EntryKind::kFile:
      a.mode = S_IFREG | 0444;
      if (node.dynamic) a.timeout = 0;  // made at each open: its size is not known before
      break;
    case hubs::EntryKind::kSymlink:
      a.mode = S_IFLNK | 0777;
      break;
  }
  if (!learn_size && node.remote && !node.remote->size) {
    a.timeout = options_.unknown_size_timeout;  // not asked yet: the kernel must ask again
    a.size_unknown = true;
  } else if (node.remote && !node.remote->size) {
    auto learned = sizes_ ? sizes_->Get(node.remote->url) : Result<RemoteSize>(Status::Unavailable("unknown"));
    if (learned) {
      a.size = learned->size;
    } else {
      // Shown as empty for now; the kernel asks again soon.
      if (sizes_) HUBFS_LOG_WARN("size of {}: {}", node.remote->url, learned.error().message());
      a.timeout = options_.unknown_size_timeout;
      a.size_unknown = true;
    }
  }
  return a;
}

Result<Attr> Filesystem::Lookup(NodeId parent, std::string_view name, bool learn_size) {
  NodeRef dir = Find(parent);
  if (!dir) return Status::NotFound("no inode " + std::to_string(parent));
  if (dir.node->kind != hubs::EntryKind::kDirectory) return Status::InvalidArgument("not a folder");
  if (dir.node->archive && !dir.node->archive_indexed) {
    HUBFS_RETURN_IF_ERROR(IndexArchive(parent));
    dir = Find(parent);
    if (!dir) return Status::NotFound("no inode " + std::to_string(parent));
  }
  const Node* child = dir.tree->Child(parent, name);
  if (!child && dir.node->archive) return Status::NotFound(std::string(name));  // the index is complete
  if (!child) {
    HUBFS_ASSIGN_OR_RETURN(auto found, Discover(parent, name));
    dir = std::move(found.first);
    child = found.second;
  }
  Attr attr = AttrOf(*child, learn_size);  // may ask the server: before taking mu_
  std::lock_guard lock(mu_);
  lookups_[child->id]++;
  // A refresh may have swapped the tree since `dir` was found (or `dir` is an orphan). Refresh
  // orphans what the kernel holds under mu_, so do the same here for a child the current tree
  // lacks; and let the kernel keep nothing of this answer: the refresh's invalidation may have
  // gone out before this reply arrives.
  if (std::shared_ptr<const Tree> current = tree_.load(); current != dir.tree) {
    if (!current->Get(child->id)) orphans_.try_emplace(child->id, dir.tree);
    attr.timeout = 0;
  }
  return attr;
}

Result<std::pair<Filesystem::NodeRef, const Node*>> Filesystem::Discover(NodeId parent, std::string_view name) {
  // The folder's path below its hub: walk up to the root.
  std::vector<std::string> folder;
  {
    NodeRef ref = Find(parent);
    for (const Node* n = ref.node; n && n->id != kRootId;) {
      folder.insert(folder.begin(), n->name);
      n = ref.tree->Get(n->parent);
    }
  }
  if (folder.empty()) return Status::NotFound(std::string(name));  // the root: hubs are configured
  hubs::Hub* hub = nullptr;
  for (hubs::Hub* h : hubs_) {
    if (h->name() == folder.front()) hub = h;
  }
  if (!hub) return Status::NotFound(std::string(name));  // .hubfs
  folder.erase(folder.begin());
  HUBFS_ASSIGN_OR_RETURN(bool learned, hub->Discover(folder, name));  // may ask the server: no lock held
  if (!learned) return Status::NotFound(std::string(name));
  HUBFS_ASSIGN_OR_RETURN(RefreshResult refreshed, Refresh({hub->name()}, hubs::ListOptions{}));
  if (listener_) listener_(refreshed);
  NodeRef dir = Find(parent);
  const Node* child = dir ? dir.tree->Child(parent, name) : nullptr;
  if (!child) return Status::NotFound(std::string(name));
  return std::make_pair(std::move(dir), child);
}

void Filesystem::Forget(NodeId ino, uint64_t count) {
  std::lock_guard lock(mu_);
  auto it = lookups_.find(ino);
  if (it == lookups_.end()) return;
  it->second = it->second > count ? it->second - count : 0;
  if (it->second == 0) {
    lookups_.erase(it);
    orphans_.erase(ino);
  }
}

uint64_t Filesystem::LookupCount(NodeId ino) const {
  std::lock_guard lock(mu_);
  auto it = lookups_.find(ino);
  return it == lookups_.end() ? 0 : it->second;
}

Result<Attr> Filesystem::GetAttr(NodeId ino) {
  NodeRef ref = Find(ino);
  if (!ref) return Status::NotFound("no inode " + std::to_string(ino));
  return AttrOf(*ref.node, /*learn_size=*/true);
}

Status Filesystem::ReadDir(NodeId ino, uint64_t offset,
                           const std::function<bool(const DirEntry&, uint64_t)>& add) {
  NodeRef ref = Find(ino);
  if (!ref) return Status::NotFound("no inode " + std::to_string(ino));
  if (ref.node->archive && !ref.node->archive_indexed) {
    HUBFS_RETURN_IF_ERROR(IndexArchive(ino));
    ref = Find(ino);
    if (!ref) return Status::NotFound("no inode " + std::to_string(ino));
  }
  const Node* dir = ref.node;
  if (dir->kind != hubs::EntryKind::kDirectory) return Status::InvalidArgument("not a folder");
  const uint64_t total = dir->children.size() + 2;
  for (uint64_t i = offset; i < total; ++i) {
    DirEntry entry;
    if (i == 0) {
      entry = {".", dir->id, S_IFDIR};
    } else if (i == 1) {
      entry = {"..", dir->parent, S_IFDIR};
    } else {
      const Node* child = ref.tree->Get(dir->children[i - 2]);
      entry = {child->name, child->id, AttrOf(*child, /*learn_size=*/false).mode};
    }
    if (!add(entry, i + 1)) break;
  }
  return Status();
}

Result<std::string> Filesystem::ReadLink(NodeId ino) {
  NodeRef ref = Find(ino);
  if (!ref) return Status::NotFound("no inode " + std::to_string(ino));
  if (ref.node->kind != hubs::EntryKind::kSymlink) return Status::InvalidArgument("not a symlink");
  return ref.node->content;
}

Result<hubs::RemoteObject> Filesystem::Resolve(const Node& node, std::string* etag) const {
  hubs::RemoteObject object = *node.remote;
  if (object.size || !sizes_) return object;  // without sizes_, the engine asks itself
  auto learned = sizes_->Get(object.url);
  if (!learned) {
    // The hub lists this file: a 404 is the hub's inconsistency, an I/O error for the reader.
    const Status& e = learned.error();
    if (e.IsNotFound()) return Status::Unavailable(e.message() + " (the hub lists this file)").WithHttpStatus(e.http_status());
    return e;
  }
  object.size = learned->size;
  *etag = learned->etag;
  return object;
}

Result<OpenResult> Filesystem::Open(NodeId ino) {
  NodeRef ref = Find(ino);
  if (!ref) return Status::NotFound("no inode " + std::to_string(ino));
  const Node* node = ref.node;
  if (node->kind != hubs::EntryKind::kFile) return Status::InvalidArgument("not a file");
  auto file = std::make_shared<OpenFile>();
  file->tree = ref.tree;
  file->node = node;
  OpenResult result{0, true, false};  // generated text is immutable for the tree's life
  if (node->dynamic) {
    file->snapshot = node->content == "stats" ? StatsText() : ErrorsText();
    result.keep_cache = false;
    result.direct_io = true;  // st_size is 0: reads must reach us
  }
  const Verification policy = node->hub < options_.verification.size()
                                  ? options_.verification[node->hub]
                                  : Verification::kStrict;
  if (node->member) {
    if (!archives_) return Status::FailedPrecondition("archive members cannot be read here");
    HUBFS_ASSIGN_OR_RETURN(file->remote, archives_->Open(*node->member, policy, &file->offset));
    result.keep_cache = file->remote->immutable();
  }
  if (node->remote) {
    std::string etag;
    HUBFS_ASSIGN_OR_RETURN(hubs::RemoteObject object, Resolve(*node, &etag));
    HUBFS_ASSIGN_OR_RETURN(file->remote, engine_.Open(object, policy, etag));
    result.keep_cache = file->remote->immutable();
    // The size is still unknown (st_size shows 0): the kernel must pass reads through to EOF.
    result.direct_io = !object.size;
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
  if (node.member) {
    if (offset >= node.size) return size_t{0};
    const size_t n = static_cast<size_t>(std::min<uint64_t>(size, node.size - offset));
    return engine_.Read(*file->remote, file->offset + offset, n, buf);  // no lock held: may take long
  }
  if (!node.remote) {
    const std::string& content = node.dynamic ? file->snapshot : node.content;
    if (offset >= content.size()) return size_t{0};
    size_t n = std::min<uint64_t>(size, content.size() - offset);
    std::memcpy(buf, content.data() + offset, n);
    return n;
  }
  return engine_.Read(*file->remote, offset, size, buf);  // no lock held: may take long
}

void Filesystem::Release(uint64_t handle) {
  std::lock_guard lock(mu_);
  handles_.erase(handle);
}

void Filesystem::RecordError(std::string_view op, NodeId ino, const Status& status) {
  RecordedError e;
  e.at = static_cast<int64_t>(std::time(nullptr));
  e.op = std::string(op);
  e.path = PathOf(ino);
  // .hubfs/errors and hubfs status show these: no credential may pass, as in the log.
  if (NodeRef ref = Find(ino); ref && ref.node->remote) e.source = log::Redact(ref.node->remote->url);
  e.message = log::Redact(status.message());
  e.kind = std::string(CodeName(status.code()));
  std::lock_guard lock(errors_mu_);
  errors_by_kind_[e.kind]++;
  errors_.push_back(std::move(e));
  constexpr size_t kKeptErrors = 100;
  while (errors_.size() > kKeptErrors) errors_.pop_front();
}

std::string Filesystem::PathOf(NodeId ino) const {
  NodeRef ref = Find(ino);
  if (!ref) return "";
  std::vector<std::string_view> parts;
  for (const Node* n = ref.node; n && n->id != kRootId; n = ref.tree->Get(n->parent)) parts.push_back(n->name);
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) path.append("/").append(*it);
  return path.empty() ? "/" : path;
}

std::string Filesystem::StatsText() const {
  StatsInput in;
  in.engine = &engine_.counters();
  in.usage = engine_.cache().Usage();
  in.evictions = engine_.cache().evictions();
  const FsStats fs = Stats();
  in.nodes = fs.nodes;
  in.open_files = fs.open_handles;
  std::lock_guard lock(errors_mu_);
  in.errors_by_kind = &errors_by_kind_;
  std::string text = RenderStats(in);
  if (options_.extra_stats) text += options_.extra_stats();
  return text;
}

std::string Filesystem::ErrorsText() const {
  std::lock_guard lock(errors_mu_);
  return RenderErrors(errors_);
}

FsStats Filesystem::Stats() const {
  const size_t nodes = tree_.load()->size();
  std::lock_guard lock(mu_);
  return FsStats{nodes, handles_.size()};
}

}  // namespace hubfs::fs

namespace hubfs::fs {

Result<std::vector<std::string>> Filesystem::ListXattr(NodeId ino) {
  NodeRef ref = Find(ino);
  const Node* node = ref.node;
  if (!node) return Status::NotFound("no inode " + std::to_string(ino));
  if (ino == kRootId && !options_.control_address.empty()) return std::vector<std::string>{"user.hubfs.control"};
  if (node->archive) return std::vector<std::string>{"user.hubfs.archive"};
  if (!node->remote && !node->member) return std::vector<std::string>{};
  std::vector<std::string> names = {"user.hubfs.source", "user.hubfs.cached_bytes", "user.hubfs.verified",
                                    "user.hubfs.pinned", "user.hubfs.cache_key", "user.hubfs.cache_dir"};
  if (GetXattr(ino, "user.hubfs.sha256").ok()) names.insert(names.begin(), "user.hubfs.sha256");
  if (!node->framework.empty()) names.push_back("user.hubfs.framework");
  return names;
}

Result<std::string> Filesystem::GetXattr(NodeId ino, std::string_view name) {
  NodeRef ref = Find(ino);
  const Node* node = ref.node;
  if (!node) return Status::NotFound("no inode " + std::to_string(ino));
  if (name.substr(0, 5) != "user.") {
    // No security.*, system.* (ACLs) or trusted.* attributes exist here. Saying "not supported"
    // rather than "no such attribute" lets ls -l stop asking for every entry (it remembers).
    return Status::InvalidArgument("only user.hubfs.* attributes exist");
  }
  if (ino == kRootId && name == "user.hubfs.control" && !options_.control_address.empty()) {
    return options_.control_address;
  }
  if (node->archive && name == "user.hubfs.archive") return node->archive->url;  // an unpacked folder
  if ((!node->remote && !node->member) || name.substr(0, 11) != "user.hubfs.") {
    return Status::NotFound("no attribute " + std::string(name));
  }
  // An archive member's bytes are in the archive's blob (stored) or in a derived blob.
  const ArchiveMemberRef* member = node->member.get();
  const bool in_archive_blob = member && member->member.stored_offset;
  const hubs::RemoteObject remote = !member        ? *node->remote
                                    : in_archive_blob ? member->archive
                                                      : ArchiveViews::DerivedObject(*member);
  const std::string key = ReadEngine::KeyFor(remote);
  if (name == "user.hubfs.source") {
    if (!member) return remote.url;
    std::string path;
    for (const auto& part : member->member.path) path += (path.empty() ? "" : "/") + part;
    return member->archive.url + "#" + path;
  }
  if (name == "user.hubfs.cache_key") return key;
  if (name == "user.hubfs.framework" && !node->framework.empty()) return node->framework;
  if (name == "user.hubfs.cache_dir") return engine_.cache().dir();
  HUBFS_ASSIGN_OR_RETURN(auto record, engine_.cache().GetBlob(key));
  if (name == "user.hubfs.sha256") {
    if (in_archive_blob) return Status::NotFound("served from its archive, whose sha256 is checked instead");
    if (remote.sha256) return ToHex(*remote.sha256);
    if (record && record->sha256) return ToHex(*record->sha256);  // pinned on first use
    HUBFS_ASSIGN_OR_RETURN(auto trust, engine_.cache().GetTrust(remote.url));
    if (trust) return ToHex(trust->sha256);  // pinned on first use, blob since evicted
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

// For hubfs status: the open files (filesystem.h).
namespace hubfs::fs {
namespace {

// The path of `node` in `tree` ("/onnx/vision/..."), walking up to the root.
std::string PathIn(const Tree& tree, const Node& node) {
  std::vector<std::string_view> parts;
  for (const Node* n = &node; n && n->id != kRootId; n = tree.Get(n->parent)) parts.push_back(n->name);
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) path.append("/").append(*it);
  return path.empty() ? "/" : path;
}

}  // namespace

std::vector<OpenFileStatus> Filesystem::OpenFiles() const {
  std::vector<std::shared_ptr<OpenFile>> open;
  {
    std::lock_guard lock(mu_);
    for (const auto& [handle, file] : handles_) {
      if (file->node->remote) open.push_back(file);
    }
  }
  std::map<std::string, OpenFileStatus> by_key;
  for (const auto& file : open) {
    const hubs::RemoteObject& remote = *file->node->remote;
    const std::string key = ReadEngine::KeyFor(remote);
    OpenFileStatus& status = by_key[key];
    if (status.handles++ > 0) continue;
    status.path = PathIn(*file->tree, *file->node);
    status.url = remote.url;
    status.cache_key = key;
    status.size = file->remote ? file->remote->size() : remote.size.value_or(0);
  }
  std::vector<OpenFileStatus> result;
  for (auto& [key, status] : by_key) result.push_back(std::move(status));
  std::sort(result.begin(), result.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return result;
}

}  // namespace hubfs::fs
