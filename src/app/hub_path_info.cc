// `hubfs info HUB/PATH` without a mount (path_info.h): the entry from the hub's listing, and
// what the cache folder knows about its blob, size and trust record.
#include <algorithm>
#include <optional>
#include <set>

#include "hub_browse.h"
#include "hubfs/core/sha256.h"
#include "hubfs/fs/read_engine.h"
#include "path_info.h"

namespace hubfs::app {
namespace {

using hubs::Entry;
using hubs::EntryKind;

bool HasPrefix(const std::vector<std::string>& path, const std::vector<std::string>& prefix) {
  return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

const Entry* FindEntry(const hubs::Listing& listing, const std::vector<std::string>& parts) {
  for (const Entry& e : listing.entries) {
    if (e.path == parts) return &e;
  }
  return nullptr;
}

// `target` of a symlink in `folder`, as the kernel would resolve it inside the hub; nullopt when
// it leaves the hub.
std::optional<std::vector<std::string>> Resolve(std::vector<std::string> folder, const std::string& target) {
  if (!target.empty() && target[0] == '/') return std::nullopt;
  for (const std::string& part : SplitPath(target)) {
    if (part == ".") continue;
    if (part == "..") {
      if (folder.empty()) return std::nullopt;
      folder.pop_back();
    } else {
      folder.push_back(part);
    }
  }
  return folder;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// The size of a remote file: published, else learned by a mount (HEAD), else from its blob.
uint64_t KnownSize(const hubs::RemoteObject& remote, cache::Cache& cache, const cache::BlobRecord* record) {
  if (remote.size) return *remote.size;
  if (auto learned = LearnedSize(cache, remote.url)) return *learned;
  if (record && record->size > 0) return record->size;
  return 0;
}

FileInfo RemoteFileInfo(const hubs::RemoteObject& remote, cache::Cache& cache, FileInfo info) {
  info.remote = true;
  info.source = remote.url;
  info.cache_key = fs::ReadEngine::KeyFor(remote);
  info.cache_dir = cache.dir();
  info.state = "partial";
  auto record = cache.GetBlob(info.cache_key);
  if (!record) info.cache_note = "cannot read the cache's index: " + record.error().message();
  const cache::BlobRecord* blob = record && *record ? &**record : nullptr;
  if (blob) {
    info.cached_bytes = blob->cached_bytes;
    info.pinned = blob->pinned;
    info.state = blob->state == cache::BlobState::kVerified   ? "verified"
                 : blob->state == cache::BlobState::kPoisoned ? "poisoned"
                                                              : "partial";
  }
  info.size = KnownSize(remote, cache, blob);
  if (remote.sha256) {
    info.sha256 = ToHex(*remote.sha256);
    info.sha256_origin = "published";
    return info;
  }
  auto trust = cache.GetTrust(remote.url);
  if (trust && *trust) {
    info.sha256 = ToHex((*trust)->sha256);
    info.sha256_origin = "pinned";
    info.pinned_at = (*trust)->pinned_at;
    if (info.size == 0) info.size = (*trust)->size;
  } else if (blob && blob->sha256) {
    info.sha256 = ToHex(*blob->sha256);
    info.sha256_origin = "pinned";
  } else if (!trust) {
    info.sha256_origin = "unknown";
    info.cache_note = "cannot read the cache's trust record: " + trust.error().message();
  } else {
    info.sha256_origin = "none";
  }
  return info;
}

FolderInfo HubFolderInfo(const std::vector<std::string>& parts, const hubs::Listing& listing, cache::Cache& cache,
                         FolderInfo info) {
  std::set<std::vector<std::string>> folders;
  for (const Entry& e : listing.entries) {
    if (e.path.size() <= parts.size() || !HasPrefix(e.path, parts)) continue;
    for (size_t depth = parts.size() + 1; depth < e.path.size(); ++depth) {
      folders.insert(std::vector<std::string>(e.path.begin(), e.path.begin() + static_cast<long>(depth)));
    }
    if (e.kind == EntryKind::kDirectory) {
      folders.insert(e.path);
      continue;
    }
    if (e.kind != EntryKind::kFile || !e.remote) {
      ++info.generated;
      continue;
    }
    auto record = cache.GetBlob(fs::ReadEngine::KeyFor(*e.remote));
    const cache::BlobRecord* blob = record && *record ? &**record : nullptr;
    const uint64_t size = KnownSize(*e.remote, cache, blob);
    const uint64_t cached = blob ? blob->cached_bytes : 0;
    ++info.files;
    info.total_bytes += size;
    info.cached_bytes += cached;
    if (size == 0) ++info.unknown_sizes;
    if (blob && blob->state == cache::BlobState::kVerified && cached == size) ++info.verified_files;
  }
  info.folders = folders.size();
  return info;
}

}  // namespace

Result<std::variant<FileInfo, FolderInfo>> GetHubPathInfo(const std::string& path, const std::string& hub_name,
                                                          const std::string& config_source,
                                                          const std::vector<std::string>& parts,
                                                          const hubs::Listing& listing, cache::Cache& cache) {
  std::vector<std::string> at = parts;
  const Entry* entry = FindEntry(listing, at);
  // Symlinks (model.onnx) show the file they point to, as in a mount; a few hops at most.
  for (int hops = 0; entry && entry->kind == EntryKind::kSymlink && hops < 8; ++hops) {
    auto target = Resolve(std::vector<std::string>(at.begin(), at.end() - 1), entry->content);
    if (!target) break;
    at = *target;
    entry = FindEntry(listing, at);
    if (!entry && !PathExists(listing, at)) {
      return Status::NotFound(path + ": a link to " + hub_name + "/" + Join(at) + ", which is not in hub '" +
                              hub_name + "'");
    }
  }
  if (entry && entry->kind == EntryKind::kSymlink) {
    return Status::NotFound(path + ": a link that leaves hub '" + hub_name + "' or loops (" + entry->content + ")");
  }
  const std::string shown = hub_name + (at.empty() ? "" : "/" + Join(at));
  if (entry && entry->kind == EntryKind::kFile) {
    FileInfo info;
    info.path = path;
    info.in_mount = shown;
    info.hub = hub_name;
    info.config = config_source;
    if (!entry->remote) {
      info.size = entry->content.size();  // generated by hubfs (info.json)
      return std::variant<FileInfo, FolderInfo>(info);
    }
    return std::variant<FileInfo, FolderInfo>(RemoteFileInfo(*entry->remote, cache, std::move(info)));
  }
  if ((entry && entry->kind == EntryKind::kDirectory) || at.empty() || PathExists(listing, at)) {
    FolderInfo info;
    info.path = path;
    info.in_mount = shown;
    info.hub = hub_name;
    info.config = config_source;
    return std::variant<FileInfo, FolderInfo>(HubFolderInfo(at, listing, cache, std::move(info)));
  }
  return Status::NotFound(path + ": no such file or folder in hub '" + hub_name + "'");
}

}  // namespace hubfs::app
