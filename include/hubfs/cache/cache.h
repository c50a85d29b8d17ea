// Cache: hubfs' persistent store, shared by every process that opens the same directory.
//
//   <dir>/index/     LMDB environment (multi-process safe): blob records, cached documents and
//                    the format version (docs/cache-format.md)
//   <dir>/blobs/xx/  one file per complete, verified blob, named after its key
//   <dir>/tmp/       blobs being written; never referenced by the index
//
// Crash safety: a blob's data is written to tmp/, fsync'ed and renamed into blobs/ before its
// record is committed, so a record always names complete data; a crash leaves at most an
// unreferenced file, which Open() removes.
//
// A mismatching format version makes Open() wipe the index and blobs instead of misreading them.
//
// Thread-safety: all methods may be called from any thread; no lock is held across calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hubfs/core/result.h"
#include "hubfs/core/sha256.h"

namespace hubfs::cache {

inline constexpr uint32_t kFormatVersion = 1;

struct BlobRecord {
  uint64_t size = 0;
  Digest sha256{};
  bool published = false;  // true: matched the hub's published digest; false: pinned on first use
  std::string source_url;  // where it was downloaded from
  int64_t created = 0;     // seconds since the epoch
  int64_t last_access = 0;
};

struct DocRecord {
  std::string body;
  int64_t fetched_at = 0;  // when the server last confirmed the body
  std::string etag;
  std::string last_modified;
};

// An open, complete blob. Reads are positional, so one BlobFile serves many threads.
class BlobFile {
 public:
  BlobFile(int fd, uint64_t size) : fd_(fd), size_(size) {}
  ~BlobFile();
  BlobFile(const BlobFile&) = delete;
  BlobFile& operator=(const BlobFile&) = delete;

  // Reads up to `size` bytes at `offset`; fewer only at end of file.
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t size) const;
  uint64_t size() const { return size_; }

 private:
  int fd_;
  uint64_t size_;
};

// A blob being written to a temporary file. Destroying it without Cache::CommitBlob removes the file.
class BlobWriter {
 public:
  BlobWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  Status Append(std::string_view data);
  uint64_t written() const { return written_; }

 private:
  friend class Cache;
  int fd_;
  std::string path_;
  uint64_t written_ = 0;
  bool committed_ = false;
};

class Cache {
 public:
  // Opens (creating if needed) the cache in `dir`.
  static Result<std::unique_ptr<Cache>> Open(const std::string& dir);
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  const std::string& dir() const { return dir_; }

  // Blob keys: "sha256:<hex>" for content with a known digest, "url:<hex of sha256(url)>" for
  // content pinned on first use. See BlobKeyFor* below.
  Result<std::optional<BlobRecord>> GetBlob(const std::string& key);
  Result<std::unique_ptr<BlobWriter>> NewBlob();
  // Makes the writer's data the blob `key` and records it. Replaces an existing blob.
  Status CommitBlob(std::unique_ptr<BlobWriter> writer, const std::string& key, const BlobRecord& record);
  // kNotFound when the blob is not cached (or its file vanished: the record is then dropped).
  Result<std::shared_ptr<BlobFile>> OpenBlob(const std::string& key);
  Status RemoveBlob(const std::string& key);
  Status TouchBlob(const std::string& key, int64_t now);

  Result<std::optional<DocRecord>> GetDoc(const std::string& url);
  Status PutDoc(const std::string& url, const DocRecord& record);

  // Where the blob `key` lives on disk (for tools and tests).
  std::string BlobPath(const std::string& key) const;

  struct Index;  // opaque: the LMDB environment and its databases

 private:
  Cache(std::string dir, std::unique_ptr<Index> index);
  std::string dir_;
  std::unique_ptr<Index> index_;
};

std::string BlobKeyForDigest(const Digest& sha256);
std::string BlobKeyForUrl(std::string_view url);

}  // namespace hubfs::cache
