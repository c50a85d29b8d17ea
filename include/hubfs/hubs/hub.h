// Hub: one configured model hub or store, seen as a tree of entries below its folder.
//
// A hub adapter describes what to fetch and parses what came back; it never touches curl, LMDB,
// inodes or errno. Documents it reads (manifests, listings) come through a DocumentSource, which
// the fs layer backs with the metadata cache so a hub still lists while its server is down.
//
// Thread-safety: List may be called from any thread, one call at a time per hub.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hubfs/core/git_blob_id.h"
#include "hubfs/core/result.h"
#include "hubfs/core/sha256.h"

namespace hubfs::hubs {

// Where a file's bytes come from and how to check them.
struct RemoteObject {
  RemoteObject() = default;
  RemoteObject(std::string url_in, std::optional<uint64_t> size_in, std::optional<Digest> sha256_in)
      : url(std::move(url_in)), size(size_in), sha256(sha256_in) {}

  std::string url;
  std::optional<uint64_t> size;   // published size; nullopt when the hub does not say
  std::optional<Digest> sha256;   // published whole-file digest; nullopt: pinned on first use
  // Published git blob id (Hugging Face files not stored with LFS): checked on the first
  // complete download, whose sha256 is then pinned as for content without a published digest.
  std::optional<GitBlobId> git_blob_id;
};

enum class EntryKind { kDirectory, kFile, kSymlink };

// One entry of a listing. `path` is relative to the hub's folder and every component has passed
// IsSafeName. Parent directories are implied.
struct Entry {
  Entry() = default;
  // The four fields positionally, as adapters and tests write entries; `framework` stays "".
  Entry(std::vector<std::string> path_in, EntryKind kind_in, std::optional<RemoteObject> remote_in,
        std::string content_in)
      : path(std::move(path_in)), kind(kind_in), remote(std::move(remote_in)), content(std::move(content_in)) {}

  std::vector<std::string> path;
  EntryKind kind = EntryKind::kFile;
  std::optional<RemoteObject> remote;  // kFile with downloadable content
  std::string content;                 // kFile without remote: the bytes; kSymlink: the target
  // A file with `remote` that is a model (or a model's weights or definition): its framework,
  // lower case ("onnx", "caffe", "mxnet", "mindspore", "pytorch", ...; hubs/model_framework.h).
  // The /by-framework view lists such files (docs/staging.md). "": not a model file.
  std::string framework;
};

struct Listing {
  std::vector<Entry> entries;
  int64_t mtime = 0;  // seconds since the epoch: when the listing's source was fetched
};

// Documents (manifests, listings) by URL, through the metadata cache.
class DocumentSource {
 public:
  struct Document {
    std::string body;
    int64_t fetched_at = 0;   // when the server last confirmed this body
    bool stale = false;       // served from cache because the server could not be asked
    std::string stale_reason; // why, when stale
    std::string link;         // the response's Link header (pagination), "" when none
  };
  virtual ~DocumentSource() = default;
  struct GetOptions {
    // Ask the server even when the cached copy is younger than the metadata TTL (hubfs refresh).
    bool revalidate = false;
  };
  // Returns the document, from cache when fresh or when the server fails; an error only when
  // neither the server nor the cache can provide it. A 404 is kNotFound with http_status 404.
  virtual Result<Document> Get(const std::string& url, const GetOptions& options) = 0;
  Result<Document> Get(const std::string& url) { return Get(url, GetOptions{}); }
};

// How a listing is made.
struct ListOptions {
  // Ask the servers now, even where cached copies are still fresh (hubfs refresh). Otherwise
  // cached manifests and listings younger than the metadata TTL are used without a request.
  bool refresh = false;
};

class Hub {
 public:
  virtual ~Hub() = default;
  // The hub's folder name in the mount (already checked with IsSafeName).
  virtual const std::string& name() const = 0;
  // Reads the hub's index and returns its tree. Unusable or hostile index entries are skipped
  // with a logged warning; an error means nothing could be listed.
  virtual Result<Listing> List(const ListOptions& options) = 0;

  // Hubs whose namespace is open (Hugging Face: any org/name can be opened without being
  // configured) answer lookups of names their listing lacks. `folder`: the folder looked in,
  // relative to the hub's folder; `name`: the missing name. Returns true when the hub learned
  // the name: its next List includes it (and keeps including it). false: no such name; an error
  // when the hub cannot say (e.g. kUnauthenticated for a repository that needs a token).
  // May run concurrently with List and with other Discover calls.
  virtual Result<bool> Discover(const std::vector<std::string>& folder, std::string_view name) {
    (void)folder;
    (void)name;
    return false;
  }
};

}  // namespace hubfs::hubs
