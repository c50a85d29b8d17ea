#include "hubfs/cache/cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

#include "blob_keys.h"
#include "cache_index.h"
#include "file_locks.h"
#include "hubfs/core/logging.h"
#include "lmdb_env.h"
#include "record_codec.h"

namespace hubfs::cache {
namespace fs = std::filesystem;

namespace {

constexpr char kVersionKey[] = "format_version";
constexpr char kUsedKey[] = "used_bytes";
constexpr char kReservedKey[] = "reserved_bytes";
// Virtual size of the index map. Blob data lives outside LMDB; records are small (a 2 GiB blob
// has 1024 block records of ~60 bytes). The map is sparse and costs nothing until used.
constexpr size_t kMapSize = size_t{1} << 34;

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return Status();
  return Status::FromErrno(errno, "mkdir " + path);
}

std::string EncodeU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
  return out;
}

uint64_t DecodeU64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v |= uint64_t(static_cast<uint8_t>(s[i])) << (8 * i);
  return v;
}

}  // namespace

namespace {

Result<std::unique_ptr<Cache::Index>> OpenIndex(const std::string& path) {
  HUBFS_ASSIGN_OR_RETURN(auto env, LmdbEnv::Open(path, kMapSize, 8));
  auto index = std::unique_ptr<Cache::Index>(new Cache::Index{std::move(env)});
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index->env.get(), /*read_only=*/false));
  struct {
    const char* name;
    MDB_dbi* dbi;
  } dbs[] = {{"meta", &index->meta}, {"blobs", &index->blobs}, {"blocks", &index->blocks},
             {"docs", &index->docs}};
  for (auto& db : dbs) {
    int rc = mdb_dbi_open(txn.get(), db.name, MDB_CREATE, db.dbi);
    if (rc != 0) return LmdbError(rc, std::string("open ") + db.name + " db");
  }
  HUBFS_RETURN_IF_ERROR(txn.Commit());
  return index;
}

// The stored format version; 0 for a new index, 0xffffffff for one we cannot read.
Result<uint32_t> ReadVersion(Cache::Index& index) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index.env.get(), true));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(index.meta, kVersionKey));
  if (!value) {
    // Version 1 caches had the same "meta" database; an index with blobs but no version is not ours.
    return uint32_t{0};
  }
  if (value->size() != 4) return uint32_t{0xffffffff};
  uint32_t version = 0;
  for (int i = 0; i < 4; ++i) version |= uint32_t(static_cast<uint8_t>((*value)[i])) << (8 * i);
  return version;
}

Status WriteVersion(Cache::Index& index) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index.env.get(), false));
  std::string v(4, '\0');
  for (int i = 0; i < 4; ++i) v[i] = static_cast<char>(kFormatVersion >> (8 * i));
  HUBFS_RETURN_IF_ERROR(txn.Put(index.meta, kVersionKey, v));
  return txn.Commit();
}

// Removes everything the cache holds, keeping the folder itself.
void Wipe(const std::string& dir) {
  std::error_code ec;
  for (const char* sub : {"/index", "/blobs", "/tmp"}) fs::remove_all(dir + sub, ec);
}

}  // namespace

Result<std::unique_ptr<Cache>> Cache::Open(const std::string& dir, CacheOptions options) {
  HUBFS_RETURN_IF_ERROR(MakeDir(dir));
  const std::string index_dir = dir + "/index";
  HUBFS_RETURN_IF_ERROR(MakeDir(index_dir));
  auto index = OpenIndex(index_dir);
  if (!index && index.error().IsDataLoss()) {
    // A damaged index (e.g. after a power loss with unsynced commits) is rebuilt, not trusted.
    HUBFS_LOG_WARN("cache index {} is damaged ({}); starting an empty cache", index_dir,
                   index.error().message());
    Wipe(dir);
    HUBFS_RETURN_IF_ERROR(MakeDir(index_dir));
    index = OpenIndex(index_dir);
  }
  if (!index) return index.error();
  HUBFS_ASSIGN_OR_RETURN(uint32_t version, ReadVersion(**index));
  if (version != 0 && version != kFormatVersion) {
    HUBFS_LOG_WARN("cache {} has format {}, this hubfs writes {}; starting an empty cache", dir,
                   version, kFormatVersion);
    index->reset();
    Wipe(dir);
    HUBFS_RETURN_IF_ERROR(MakeDir(index_dir));
    HUBFS_ASSIGN_OR_RETURN(*index, OpenIndex(index_dir));
    version = 0;
  }
  if (version == 0) {
    std::error_code ec;
    fs::remove_all(dir + "/blobs", ec);  // files no index names
    fs::remove_all(dir + "/tmp", ec);    // format 1 left these
    HUBFS_RETURN_IF_ERROR(WriteVersion(**index));
  }
  HUBFS_RETURN_IF_ERROR(MakeDir(dir + "/blobs"));
  auto cache = std::unique_ptr<Cache>(new Cache(dir, options, std::move(index).value()));
  HUBFS_RETURN_IF_ERROR(cache->JoinUsers());
  return cache;
}

// Every open Cache holds a shared lock on index/users.lock. Reservations (Reserve) live in the
// index; a process that dies leaves its reservations behind, so the first process to open the
// cache alone (the exclusive lock succeeds) clears them.
Status Cache::JoinUsers() {
  const std::string path = dir_ + "/index/users.lock";
  users_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (users_fd_ < 0) return Status::FromErrno(errno, "open " + path);
  if (LockEvict(users_fd_).ok()) {
    HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
    HUBFS_RETURN_IF_ERROR(txn.Put(index_->meta, kReservedKey, EncodeU64(0)));
    HUBFS_RETURN_IF_ERROR(txn.Commit());
  }
  return LockInUse(users_fd_, /*wait=*/true);  // converts our exclusive lock, or waits for one
}

Cache::Cache(std::string dir, CacheOptions options, std::unique_ptr<Index> index)
    : dir_(std::move(dir)), options_(options), index_(std::move(index)) {}

Cache::~Cache() {
  if (Status s = Sync(); !s.ok()) HUBFS_LOG_WARN("cache {}: {}", dir_, s.ToString());
  if (users_fd_ >= 0) ::close(users_fd_);
}

Status Cache::Sync() { return index_->env.Sync(); }

std::string BlobKeyForDigest(const Digest& sha256) { return "sha256:" + ToHex(sha256); }

std::string BlobKeyForUrl(std::string_view url) { return "url:" + ToHex(Sha256::Of(url)); }

std::string Cache::BlobPath(const std::string& key) const {
  // Keys are "<kind>:<64 hex>"; the file name swaps ':' for '-', the folder is 2 hex digits.
  std::string name = key;
  size_t colon = name.find(':');
  if (colon != std::string::npos) name[colon] = '-';
  std::string shard = colon != std::string::npos && key.size() >= colon + 3 ? key.substr(colon + 1, 2) : "00";
  return dir_ + "/blobs/" + shard + "/" + name;
}

Result<std::optional<BlobRecord>> Cache::GetBlob(const std::string& key) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), true));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(index_->blobs, key));
  if (!value) return std::optional<BlobRecord>();
  auto record = DecodeBlobRecord(*value);
  if (!record) return std::optional<BlobRecord>();  // unreadable record: treat as not cached
  return std::optional<BlobRecord>(std::move(record).value());
}

// Deletes every block record of `id` inside `txn`; returns the bytes they held.
static Result<uint64_t> DeleteBlocks(LmdbTxn& txn, MDB_dbi blocks, const std::string& id,
                                     uint64_t blob_size) {
  std::vector<std::string> keys;
  uint64_t freed = 0;
  HUBFS_RETURN_IF_ERROR(txn.ForEachWithPrefix(blocks, id, [&](std::string_view k, std::string_view v) {
    keys.emplace_back(k);
    auto block = DecodeBlockRecord(v);
    if (block && block->present) {
      uint64_t index = BlockIndexOf(k);
      uint64_t start = index * kBlockSize;
      if (start < blob_size) freed += std::min(kBlockSize, blob_size - start);
    }
    return true;
  }));
  for (const auto& k : keys) HUBFS_RETURN_IF_ERROR(txn.Delete(blocks, k));
  return freed;
}

static Status AddTo(LmdbTxn& txn, MDB_dbi meta, const char* key, int64_t delta) {
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(meta, key));
  uint64_t total = value ? DecodeU64(*value) : 0;
  total = delta < 0 && uint64_t(-delta) > total ? 0 : total + static_cast<uint64_t>(delta);
  return txn.Put(meta, key, EncodeU64(total));
}

static Status AddUsed(LmdbTxn& txn, MDB_dbi meta, int64_t delta) { return AddTo(txn, meta, kUsedKey, delta); }

static Result<uint64_t> GetCounter(LmdbTxn& txn, MDB_dbi meta, const char* key) {
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(meta, key));
  return value ? DecodeU64(*value) : 0;
}

Result<std::shared_ptr<Blob>> Cache::OpenBlob(const std::string& key, const BlobSpec& spec) {
  const std::string path = BlobPath(key);
  HUBFS_RETURN_IF_ERROR(MakeDir(path.substr(0, path.rfind('/'))));
  // Open the file and hold the shared in-use lock before touching the record, so an evictor
  // (which deletes records, then the file, under the exclusive lock) never races us.
  int fd = -1;
  bool created = false;
  for (int attempt = 0; attempt < 8; ++attempt) {
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    created = false;
    if (fd < 0 && errno == ENOENT) {
      fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      created = true;
    }
    if (fd < 0) return Status::FromErrno(errno, "open " + path);
    HUBFS_RETURN_IF_ERROR(LockInUse(fd, /*wait=*/true));
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_nlink > 0) break;
    ::close(fd);  // evicted while we waited: open the new file
    fd = -1;
  }
  if (fd < 0) return Status::Unavailable("blob " + key + " keeps being evicted");
  auto blob = std::shared_ptr<Blob>(new Blob(*this, key, spec.size, fd));
  // The lock protected the record update below; afterwards only readers (AcquireUse) hold it.
  struct Release {
    int fd;
    ~Release() { UnlockByte(fd, kInUseOffset); }
  } release_after_update{fd};

  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(index_->blobs, key));
  std::optional<BlobRecord> record;
  if (value) {
    if (auto decoded = DecodeBlobRecord(*value)) record = std::move(decoded).value();
  }
  if (!record || record->size != spec.size || created) {
    // New, inconsistent, or its file vanished: start over empty.
    HUBFS_ASSIGN_OR_RETURN(uint64_t freed, DeleteBlocks(txn, index_->blocks, BlobIdOf(key),
                                                       record ? record->size : 0));
    HUBFS_RETURN_IF_ERROR(AddUsed(txn, index_->meta, -static_cast<int64_t>(freed)));
    BlobRecord fresh;
    fresh.size = spec.size;
    fresh.sha256 = spec.sha256;
    fresh.published = spec.sha256.has_value();
    fresh.source_url = spec.source_url;
    fresh.created = Now();
    if (record && record->pinned) fresh.pinned = true;
    record = std::move(fresh);
  }
  record->last_access = NowMillis();
  blob->last_access_ = record->last_access;
  HUBFS_RETURN_IF_ERROR(txn.Put(index_->blobs, key, EncodeBlobRecord(*record)));
  HUBFS_RETURN_IF_ERROR(txn.Commit());

  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::FromErrno(errno, "fstat " + path);
  if (static_cast<uint64_t>(st.st_size) != spec.size &&
      ::ftruncate(fd, static_cast<off_t>(spec.size)) != 0) {
    return Status::FromErrno(errno, "ftruncate " + path);
  }
  return blob;
}

Status Cache::UpdateRecord(const std::string& key, const std::function<void(BlobRecord&)>& change) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(index_->blobs, key));
  if (!value) return Status::NotFound("blob " + key + " has no record (evicted?)");
  HUBFS_ASSIGN_OR_RETURN(BlobRecord record, DecodeBlobRecord(*value));
  change(record);
  HUBFS_RETURN_IF_ERROR(txn.Put(index_->blobs, key, EncodeBlobRecord(record)));
  return txn.Commit();
}

Status Cache::SetPinned(const std::string& key, bool pinned) {
  return UpdateRecord(key, [&](BlobRecord& r) { r.pinned = pinned; });
}

Status Cache::CommitBlock(Blob& blob, uint64_t index, const BlockDigest& digest, bool present,
                         bool reserved) {
  const uint64_t length = blob.BlockLength(index);
  const std::string block_key = BlockKey(blob.id_, index);
  for (int attempt = 0; attempt < 16; ++attempt) {
    uint64_t used = 0;
    {
      HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
      // Whatever happens below, a reservation made for this block ends with this transaction.
      if (reserved) HUBFS_RETURN_IF_ERROR(AddTo(txn, index_->meta, kReservedKey, -static_cast<int64_t>(length)));
      HUBFS_ASSIGN_OR_RETURN(auto old_value, txn.Get(index_->blocks, block_key));
      std::optional<BlockInfo> old;
      if (old_value) {
        if (auto decoded = DecodeBlockRecord(*old_value)) old = *decoded;
      }
      if (old && old->digest_known && old->digest != digest && present) {
        HUBFS_RETURN_IF_ERROR(txn.Commit());  // releases the reservation
        return Status::DataLoss("block " + std::to_string(index) + " of " + blob.key() +
                                " differs from the bytes recorded for it before (changed at the origin?)");
      }
      if (old && (old->present || !present)) return txn.Commit();  // nothing new to record
      HUBFS_ASSIGN_OR_RETURN(auto record_value, txn.Get(index_->blobs, blob.key()));
      if (!record_value) {
        HUBFS_RETURN_IF_ERROR(txn.Commit());
        return Status::NotFound("blob " + blob.key() + " was removed");
      }
      HUBFS_ASSIGN_OR_RETURN(BlobRecord record, DecodeBlobRecord(*record_value));
      bool fits = true;
      if (present && !reserved) {
        // The limit is checked inside the write transaction, which LMDB serialises across
        // processes, so concurrent writers cannot overshoot it together.
        HUBFS_ASSIGN_OR_RETURN(used, GetCounter(txn, index_->meta, kUsedKey));
        HUBFS_ASSIGN_OR_RETURN(uint64_t pending, GetCounter(txn, index_->meta, kReservedKey));
        fits = used + pending + length <= options_.size_limit;
      }
      if (fits) {
        if (present) {
          record.cached_bytes += length;
          HUBFS_RETURN_IF_ERROR(AddUsed(txn, index_->meta, static_cast<int64_t>(length)));
        }
        BlockInfo info{true, present, digest};
        HUBFS_RETURN_IF_ERROR(txn.Put(index_->blocks, block_key, EncodeBlockRecord(info)));
        HUBFS_RETURN_IF_ERROR(txn.Put(index_->blobs, blob.key(), EncodeBlobRecord(record)));
        return txn.Commit();
      }
    }  // the transaction is aborted here; evict outside it
    bool evicted = false;
    HUBFS_RETURN_IF_ERROR(EvictOne(&evicted));
    if (!evicted) {
      return Status::ResourceExhausted("the cache is full: " + std::to_string(used) +
                                       " bytes are in blobs that are open or pinned");
    }
  }
  return Status::ResourceExhausted("the cache is full");
}

Status Cache::DropBlock(const Blob& blob, uint64_t index) const {
  const uint64_t length = blob.BlockLength(index);
  const std::string block_key = BlockKey(blob.id_, index);
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(index_->blocks, block_key));
  if (!value) return Status();
  HUBFS_ASSIGN_OR_RETURN(BlockInfo info, DecodeBlockRecord(*value));
  if (!info.present) return Status();
  info.present = false;
  HUBFS_RETURN_IF_ERROR(txn.Put(index_->blocks, block_key, EncodeBlockRecord(info)));
  HUBFS_ASSIGN_OR_RETURN(auto record_value, txn.Get(index_->blobs, blob.key()));
  if (record_value) {
    HUBFS_ASSIGN_OR_RETURN(BlobRecord record, DecodeBlobRecord(*record_value));
    record.cached_bytes = record.cached_bytes > length ? record.cached_bytes - length : 0;
    HUBFS_RETURN_IF_ERROR(txn.Put(index_->blobs, blob.key(), EncodeBlobRecord(record)));
  }
  HUBFS_RETURN_IF_ERROR(AddUsed(txn, index_->meta, -static_cast<int64_t>(length)));
  HUBFS_RETURN_IF_ERROR(txn.Commit());
  PunchHole(blob.fd_, index * kBlockSize, length);
  return Status();
}

// Deletes the records of `key`, then its file. The caller holds the exclusive in-use lock or
// accepts that open readers lose their blocks.
static Status DeleteBlob(Cache::Index& index, const std::string& key, const std::string& path) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index.env.get(), false));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(index.blobs, key));
  uint64_t size = 0;
  if (value) {
    if (auto record = DecodeBlobRecord(*value)) size = record->size;
  }
  HUBFS_ASSIGN_OR_RETURN(uint64_t freed, DeleteBlocks(txn, index.blocks, BlobIdOf(key), size));
  HUBFS_RETURN_IF_ERROR(AddUsed(txn, index.meta, -static_cast<int64_t>(freed)));
  HUBFS_RETURN_IF_ERROR(txn.Delete(index.blobs, key));
  HUBFS_RETURN_IF_ERROR(txn.Commit());
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno(errno, "unlink " + path);
  return Status();
}

Status Cache::RemoveBlob(const std::string& key) {
  return DeleteBlob(*index_, key, BlobPath(key));
}

Status Cache::EvictOne(bool* evicted, int64_t evict_before, bool* busy, const std::string& requester) {
  *evicted = false;
  if (busy) *busy = false;
  std::lock_guard lock(evict_mu_);
  struct Candidate {
    int64_t last_access;
    std::string key;
  };
  std::vector<Candidate> candidates;
  {
    HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), true));
    HUBFS_RETURN_IF_ERROR(txn.ForEachWithPrefix(index_->blobs, "", [&](std::string_view k, std::string_view v) {
      auto record = DecodeBlobRecord(v);
      if (record && !record->pinned && record->cached_bytes > 0 && record->last_access < evict_before &&
          k != requester) {
        candidates.push_back({record->last_access, std::string(k)});
      }
      return true;
    }));
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.last_access < b.last_access; });
  for (const Candidate& c : candidates) {
    const std::string path = BlobPath(c.key);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      // No file: its records are stale; dropping them frees the accounted bytes.
      HUBFS_RETURN_IF_ERROR(DeleteBlob(*index_, c.key, path));
      *evicted = true;
      return Status();
    }
    Status locked = LockEvict(fd);
    if (!locked.ok()) {  // open somewhere: not evictable now
      ::close(fd);
      if (busy) *busy = true;
      continue;
    }
    Status deleted = DeleteBlob(*index_, c.key, path);
    ::close(fd);  // releases the lock
    HUBFS_RETURN_IF_ERROR(deleted);
    HUBFS_LOG_INFO("cache: evicted {} (least recently used)", c.key);
    evictions_.fetch_add(1, std::memory_order_relaxed);
    *evicted = true;
    return Status();
  }
  return Status();
}

Status Cache::Reserve(uint64_t bytes, int64_t evict_before, const std::string& requester) {
  // Space may free up in a moment: blocks in flight elsewhere land or give their reservation
  // back, and a file just closed is still "open" until the kernel's asynchronous RELEASE
  // arrives. Wait that long, not more: a cache full of files really open should fall back to
  // uncached reads quickly.
  constexpr auto kWaitForWriters = std::chrono::milliseconds(250);
  // Having waited in vain once, do not wait again for a while: every block of a big file read
  // through a cache full of open files would pay the wait.
  constexpr int64_t kRememberFullMs = 1000;
  if (bytes > options_.size_limit) return Status::ResourceExhausted("a block is larger than the whole cache");
  const bool recently_full = NowMillis() < full_until_ms_.load();
  const auto give_up = std::chrono::steady_clock::now() + (recently_full ? std::chrono::milliseconds(0) : kWaitForWriters);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    uint64_t used = 0, pending = 0;
    {
      HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
      HUBFS_ASSIGN_OR_RETURN(used, GetCounter(txn, index_->meta, kUsedKey));
      HUBFS_ASSIGN_OR_RETURN(pending, GetCounter(txn, index_->meta, kReservedKey));
      if (used + pending + bytes <= options_.size_limit) {
        HUBFS_RETURN_IF_ERROR(txn.Put(index_->meta, kReservedKey, EncodeU64(pending + bytes)));
        return txn.Commit();
      }
    }
    bool evicted = false, busy = false;
    HUBFS_RETURN_IF_ERROR(EvictOne(&evicted, evict_before, &busy, requester));
    // Another thread may have evicted (or committed, or released) while we waited for the
    // eviction lock: look at the counters again before concluding anything.
    CacheUsage now = Usage();
    if (!evicted && now.used_bytes + now.reserved_bytes != used + pending) continue;
    if (!evicted && (pending > 0 || busy) && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (!evicted) {
      full_until_ms_ = NowMillis() + kRememberFullMs;
      return Status::ResourceExhausted("the cache is full: " + std::to_string(used) + " bytes cached and " +
                                       std::to_string(pending) + " being written, in blobs that are open, "
                                       "pinned or more recently used");
    }
  }
  return Status::ResourceExhausted("the cache is full");
}

void Cache::Unreserve(uint64_t bytes) {
  auto txn = LmdbTxn::Begin(index_->env.get(), false);
  if (!txn || !AddTo(*txn, index_->meta, kReservedKey, -static_cast<int64_t>(bytes)).ok() ||
      !txn->Commit().ok()) {
    HUBFS_LOG_WARN("cache {}: could not release a {}-byte reservation", dir_, bytes);
  }
}

CacheUsage Cache::Usage() {
  CacheUsage usage;
  usage.size_limit = options_.size_limit;
  auto txn = LmdbTxn::Begin(index_->env.get(), true);
  if (!txn) return usage;
  usage.used_bytes = GetCounter(*txn, index_->meta, kUsedKey).value_or(0);
  usage.reserved_bytes = GetCounter(*txn, index_->meta, kReservedKey).value_or(0);
  return usage;
}

Result<std::optional<DocRecord>> Cache::GetDoc(const std::string& url) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), true));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(index_->docs, url));
  if (!value) return std::optional<DocRecord>();
  auto record = DecodeDocRecord(*value);
  if (!record) return std::optional<DocRecord>();
  return std::optional<DocRecord>(std::move(record).value());
}

Status Cache::PutDoc(const std::string& url, const DocRecord& record) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
  HUBFS_RETURN_IF_ERROR(txn.Put(index_->docs, url, EncodeDocRecord(record)));
  return txn.Commit();
}

// Trust records are stored with the documents under a key no URL can have ("trust " + URL), as
// "<sha256 hex>\n<size>\n<etag>\n<pinned_at>\n": documents are never evicted with blobs.
Result<std::optional<TrustRecord>> Cache::GetTrust(const std::string& url) {
  HUBFS_ASSIGN_OR_RETURN(auto doc, GetDoc("trust " + url));
  if (!doc) return std::optional<TrustRecord>();
  std::istringstream in(doc->body);
  std::string hex, size, etag, pinned_at;
  std::getline(in, hex);
  std::getline(in, size);
  std::getline(in, etag);
  std::getline(in, pinned_at);
  auto digest = DigestFromHex(hex);
  if (!digest || size.empty() || size.find_first_not_of("0123456789") != std::string::npos ||
      size.size() > 19) {
    return Status::DataLoss("the trust record of " + url + " is damaged");
  }
  TrustRecord record;
  record.sha256 = *digest;
  record.size = std::stoull(size);
  record.etag = etag;
  record.pinned_at = std::strtoll(pinned_at.c_str(), nullptr, 10);
  return std::optional<TrustRecord>(record);
}

Status Cache::PutTrust(const std::string& url, const TrustRecord& record) {
  DocRecord doc;
  doc.body = ToHex(record.sha256) + "\n" + std::to_string(record.size) + "\n" + record.etag + "\n" +
             std::to_string(record.pinned_at) + "\n";
  doc.fetched_at = record.pinned_at;
  HUBFS_RETURN_IF_ERROR(PutDoc("trust " + url, doc));
  return Sync();  // a trust record is what later downloads are judged by: keep it
}

}  // namespace hubfs::cache
