// Cache: hubfs' persistent block cache, shared by every process that opens the same directory.
//
//   <dir>/index/     LMDB environment (multi-process): blob records, block records, cached
//                    documents, the format version and the bytes in use (docs/cache.md)
//   <dir>/blobs/xx/  one sparse file per blob, named after its key; block i lives at i * kBlockSize
//
// A blob is a remote file's content, keyed by its sha256 when the hub publishes one (so a model
// reachable from two hubs is stored once), else by its URL. It is stored in blocks of kBlockSize.
// Each block has a record: its XXH3-128 digest and whether its bytes are on disk ("present").
// Every block read from disk is checked against that digest; a mismatch drops the block
// (kDataLoss) and the caller fetches it again. The digests guard against local damage — torn
// writes, bit rot, a crash — while trust in the content comes from the whole-file sha256, which
// the read engine verifies once over every byte. XXH3 runs at memory speed, so keeping both
// costs no second cryptographic pass over the data.
//
// Crash safety: a block's bytes are written before its record is committed, so after kill -9 a
// present block is complete. LMDB commits without fsync (MDB_NOSYNC: 2 ms per fsync here would
// double the time to cache a large file); the index is synced when a blob is verified and on
// close. After a power loss the digest checks catch data that did not reach the disk, and an
// index LMDB cannot open is rebuilt. A format-version mismatch also rebuilds, never misreads.
//
// Size limit: the bytes of present blocks stay under Options::size_limit. Making room evicts
// whole blobs, least recently used first, skipping pinned blobs and blobs open in any process
// (each open Blob holds a shared OFD lock on its file, which eviction probes). When nothing can
// be evicted, WriteBlock fails with kResourceExhausted and the caller serves the data uncached.
//
// Thread-safety: Cache and Blob may be used from any thread. No lock is held across calls.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"
#include "hubfs/core/sha256.h"

namespace hubfs::cache {

inline constexpr uint32_t kFormatVersion = 2;
// 2 MiB: a FUSE read (up to 1 MiB) touches at most two blocks; a 2 GiB model is 1024 ranged GETs
// and 1024 small records; a cold 4 KiB read in lazy mode waits for 2 MiB, about 2 ms on a fast
// link. Larger blocks cost time to first byte, smaller ones requests and index size.
inline constexpr uint64_t kBlockSize = uint64_t{2} << 20;

using BlockDigest = std::array<uint8_t, 16>;  // XXH3-128

enum class BlobState : uint8_t {
  kPartial = 0,   // some or no blocks present; whole-file digest not yet checked
  kVerified = 1,  // every block was present once and the whole-file sha256 matched
  kPoisoned = 2,  // the whole-file sha256 did not match: never serve (lazy policy)
};

struct BlobRecord {
  uint64_t size = 0;
  std::optional<Digest> sha256;  // published, or pinned once verified without a published one
  bool published = false;        // sha256 came from the hub
  BlobState state = BlobState::kPartial;
  bool pinned = false;           // never evicted
  uint64_t cached_bytes = 0;     // bytes of present blocks
  std::string source_url;
  int64_t created = 0;           // seconds since the epoch
  int64_t last_access = 0;       // milliseconds since the epoch: the eviction order

  std::string note;              // why it is poisoned
};

// What the hub says about a blob, to create its record on first use.
struct BlobSpec {
  uint64_t size = 0;
  std::optional<Digest> sha256;
  std::string source_url;
};

struct BlockInfo {
  bool digest_known = false;
  bool present = false;
  BlockDigest digest{};
};

struct DocRecord {
  std::string body;
  int64_t fetched_at = 0;  // when the server last confirmed the body
  std::string etag;
  std::string last_modified;
  std::string link;  // the Link header (pagination of API listings)
};

// Trust on first use: what a file without a published sha256 was when it was first downloaded
// completely. Kept when the blob is evicted (it lives with the documents, not the blob), so a
// later download of the same URL must come back identical.
struct TrustRecord {
  Digest sha256{};
  uint64_t size = 0;
  std::string etag;     // the server's ETag then; empty when it sent none
  int64_t pinned_at = 0;  // seconds since the epoch
};

struct CacheOptions {
  uint64_t size_limit = UINT64_MAX;  // bytes of present blocks
};

struct CacheUsage {
  uint64_t used_bytes = 0;      // bytes of present blocks
  uint64_t reserved_bytes = 0;  // bytes of blocks being written
  uint64_t size_limit = 0;
};

// ---- Administration (src/cache/cache_admin.cc): `hubfs cache stats|verify|gc|clear`.

struct BlobEntry {
  std::string key;
  BlobRecord record;
};

// The index at one moment (one read transaction).
struct CacheSummary {
  uint64_t used_bytes = 0;
  uint64_t reserved_bytes = 0;
  std::vector<BlobEntry> blobs;  // every blob record that decodes, in key order
  uint64_t malformed_blobs = 0;  // records that do not decode (treated as absent)
  uint64_t documents = 0;        // cached documents (manifests, listings)
  uint64_t size_records = 0;     // "size <URL>" records
  uint64_t trust_records = 0;    // "trust <URL>" records
  uint64_t absent_records = 0;   // "absent <URL>" records
};

struct VerifyOptions {
  bool fix = false;  // remove bad blobs that no process has open (pins are kept)
  // Called after each blob: bytes of present blocks checked so far, and in all.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct BadBlob {
  std::string key;
  std::string source_url;
  std::string path;      // its file
  std::string problem;   // what is wrong
  bool removed = false;  // fix: its records and file were deleted
  bool in_use = false;   // fix: open in some process, so left alone
};

struct VerifyReport {
  uint64_t blobs = 0;         // blob records examined
  uint64_t blocks = 0;        // present blocks re-read
  uint64_t bytes = 0;         // their bytes
  uint64_t hashed_blobs = 0;  // verified blobs whose whole-file sha256 was recomputed
  std::vector<BadBlob> bad;
};

struct EvictedBlob {
  std::string key;
  std::string source_url;
  uint64_t bytes = 0;  // cached bytes it held
};

struct ShrinkReport {
  uint64_t used_before = 0;
  uint64_t used_after = 0;
  std::vector<EvictedBlob> evicted;  // blobs that left the index meanwhile
};

struct ClearReport {
  bool exclusive = false;        // no other process had the cache open: everything went
  uint64_t removed_blobs = 0;
  uint64_t removed_bytes = 0;
  uint64_t kept_open_blobs = 0;  // force: open in a running process, left alone
  uint64_t kept_open_bytes = 0;
  uint64_t pins_kept = 0;        // pinned blobs whose pin survives, with no bytes
  uint64_t documents_removed = 0;  // every docs record: documents, size, trust, absent
};

BlockDigest DigestBlock(std::string_view data);

// Incremental block digest, for data that arrives in pieces.
class BlockHasher {
 public:
  BlockHasher();
  ~BlockHasher();
  BlockHasher(const BlockHasher&) = delete;
  BlockHasher& operator=(const BlockHasher&) = delete;
  void Update(std::string_view data);
  BlockDigest Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

class Cache;

// An open blob: its sparse file (one descriptor) and block operations. Get it from
// Cache::OpenBlob. While some AcquireUse is not matched by ReleaseUse (a reader has the file
// open), no process evicts it; work in the background (fetching, verifying) does not protect it.
class Blob {
 public:
  ~Blob();
  Blob(const Blob&) = delete;
  Blob& operator=(const Blob&) = delete;

  const std::string& key() const { return key_; }
  uint64_t size() const { return size_; }
  uint64_t block_count() const { return (size_ + kBlockSize - 1) / kBlockSize; }
  // Bytes in block `index` (the last block may be short).
  size_t BlockLength(uint64_t index) const;

  Result<BlobRecord> Record() const;
  Result<BlockInfo> Block(uint64_t index) const;
  // Which blocks are present, in one pass over the index (index i: block i).
  Result<std::vector<bool>> PresentBlocks() const;

  // Reads block `index` from disk into `buf` (BlockLength bytes) and checks its digest.
  // kNotFound when not present; kDataLoss when the bytes do not match (the block is dropped).
  Status ReadBlock(uint64_t index, char* buf) const;
  // Reads bytes without a digest check: only for blocks the caller checked (or wrote) before in
  // this process. Returns the bytes read (fewer at end of file or if the file was truncated).
  Result<size_t> ReadUnchecked(uint64_t offset, char* buf, size_t size) const;

  // Writes one block's bytes at their place in the file: Append in order, then Commit. The
  // writer holds a reservation of the block's size against the cache limit from the start, so
  // bytes never reach the disk beyond the limit; destroying it without Commit frees the bytes
  // and the reservation.
  class Writer {
   public:
    Writer(Writer&& other) noexcept;
    Writer& operator=(Writer&&) = delete;
    ~Writer();
    Status Append(std::string_view data);
    uint64_t written() const { return written_; }
    // Records the block as present with its digest. kDataLoss when a digest was recorded for
    // this block before and the new bytes differ (the origin changed).
    Status Commit();

   private:
    friend class Blob;
    Writer(Blob& blob, uint64_t index);
    Blob* blob_;
    uint64_t index_;
    uint64_t written_ = 0;
    bool reserved_ = true;  // until committed or released
    std::unique_ptr<BlockHasher> hasher_;
  };
  // Reserves room for block `index` (evicting if needed) and returns its writer.
  // kResourceExhausted when the cache is full of open or pinned blobs. With `background`, only
  // blobs used less recently than this one are evicted: completing a blob nobody is reading
  // must not push out what readers used since.
  Result<Writer> WriteBlock(uint64_t index, bool background = false);
  // For imports of local files (blob_import.h): like WriteBlock, but evicts nothing; the block
  // must fit in the room left under the limit, else kResourceExhausted.
  Result<Writer> WriteBlockWithoutEviction(uint64_t index);
  // Checks bytes fetched for a block against its known digest (OK when no digest is known).
  Status CheckBlock(uint64_t index, std::string_view data) const;
  // Records the digest of a block that is served but not stored (the cache was full).
  Status RecordDigest(uint64_t index, std::string_view data);

  Status MarkVerified(const Digest& sha256);
  Status MarkPoisoned(const std::string& why);
  Status Touch();  // now becomes the blob's last access
  // Counted in this process; the first use takes the shared in-use lock, the last releases it.
  Status AcquireUse();
  void ReleaseUse();

  // Cross-process single flight: an exclusive lock on block `index`, held while fetching it.
  // Blocks while another process holds it. Released by UnlockBlock or when the process dies.
  Status LockBlock(uint64_t index);
  void UnlockBlock(uint64_t index);

 private:
  friend class Cache;
  Blob(Cache& cache, std::string key, uint64_t size, int fd);
  Cache& cache_;
  std::string key_;
  std::string id_;  // fixed-width id used in block keys
  uint64_t size_;
  int fd_;
  std::mutex use_mu_;
  int uses_ = 0;  // guarded by use_mu_
  std::atomic<int64_t> last_access_{0};  // as recorded by OpenBlob/Touch
};

class Cache {
 public:
  static Result<std::unique_ptr<Cache>> Open(const std::string& dir, CacheOptions options = {});
  ~Cache();
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  const std::string& dir() const { return dir_; }

  // Opens the blob `key`, creating its record and sparse file from `spec` when absent. A record
  // whose size disagrees with `spec`, or whose file vanished, starts over empty.
  // Keys: BlobKeyForDigest / BlobKeyForUrl.
  Result<std::shared_ptr<Blob>> OpenBlob(const std::string& key, const BlobSpec& spec);
  Result<std::optional<BlobRecord>> GetBlob(const std::string& key);
  Status SetPinned(const std::string& key, bool pinned);
  // Drops the blob's blocks and record and deletes its file (also while open: readers then
  // see blocks as absent).
  Status RemoveBlob(const std::string& key);

  CacheUsage Usage();
  // Blobs this process evicted since it opened the cache (for .hubfs/stats).
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  // Reserves `bytes` under the limit for a block about to be written, evicting as needed.
  // kResourceExhausted when that is impossible. Unreserve gives them back.
  // Only blobs whose last access is older than `evict_before` (ms) are evicted for it.
  Status Reserve(uint64_t bytes, int64_t evict_before = INT64_MAX, const std::string& requester = "");
  void Unreserve(uint64_t bytes);
  // Flushes the index to disk.
  Status Sync();

  Result<std::optional<DocRecord>> GetDoc(const std::string& url);
  Status PutDoc(const std::string& url, const DocRecord& record);

  // The trust-on-first-use record of `url` (see TrustRecord).
  Result<std::optional<TrustRecord>> GetTrust(const std::string& url);
  Status PutTrust(const std::string& url, const TrustRecord& record);

  // Where the blob `key` lives on disk (for tools and tests).
  std::string BlobPath(const std::string& key) const;

  // Administration (cache_admin.cc). Safe while daemons use the cache: blobs open anywhere
  // (in-use lock) are never removed, and removal takes the lock eviction takes.
  Result<CacheSummary> Summarize();
  // Re-reads every present block against its XXH3-128 and, for verified blobs whose blocks are
  // all present, recomputes the whole-file sha256. Poisoned blobs and blobs whose file vanished
  // are bad too. Changes nothing unless options.fix.
  Result<VerifyReport> Verify(const VerifyOptions& options);
  // Evicts least recently used blobs (EvictOne: unpinned, not open) until used_bytes <= target.
  Result<ShrinkReport> ShrinkTo(uint64_t target_bytes);
  // Whether another process (a daemon, a command) has this cache open: the shared lock every
  // open Cache holds on index/users.lock.
  bool HasOtherUsers();
  // Empties the cache: blobs, blocks and every docs record (documents, size, trust and absent
  // records); pins stay as empty records. kFailedPrecondition while another process has the cache
  // open, unless `force`: then blobs open somewhere are kept and the rest goes.
  Result<ClearReport> Clear(bool force);

  struct Index;  // opaque: the LMDB environment and its databases

 private:
  friend class Blob;
  Cache(std::string dir, CacheOptions options, std::unique_ptr<Index> index);
  // Records a block. `reserved`: its bytes were reserved (present blocks only).
  Status CommitBlock(Blob& blob, uint64_t index, const BlockDigest& digest, bool present, bool reserved);
  Status DropBlock(const Blob& blob, uint64_t index) const;
  Status UpdateRecord(const std::string& key, const std::function<void(BlobRecord&)>& change);
  // Evicts the least recently used blob that is not pinned, not open, and last used before
  // `evict_before`. `*busy` tells whether some candidate was skipped only because it is open.
  // `requester` (the blob that needs room) is never a victim and never counts as busy.
  Status EvictOne(bool* evicted, int64_t evict_before = INT64_MAX, bool* busy = nullptr,
                  const std::string& requester = "");
  Status JoinUsers();

  std::string dir_;
  CacheOptions options_;
  std::unique_ptr<Index> index_;
  std::mutex evict_mu_;  // one evictor at a time in this process
  std::atomic<uint64_t> evictions_{0};
  int users_fd_ = -1;    // shared lock on index/users.lock while this Cache is open
  // Until then, Reserve does not wait for space to free up: it just found none.
  std::atomic<int64_t> full_until_ms_{0};
};

std::string BlobKeyForDigest(const Digest& sha256);
std::string BlobKeyForUrl(std::string_view url);

}  // namespace hubfs::cache
