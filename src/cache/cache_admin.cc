// Cache administration: the index walks behind `hubfs cache stats|verify|gc|clear`.
//
// Everything here may run while daemons use the same cache folder:
//   - blob records are read in one read transaction each (LMDB readers never block writers);
//   - a blob is only removed while this process holds its exclusive in-use lock, exactly as
//     eviction does, so a blob open in any process is never touched;
//   - "another process uses the cache" is the shared lock every open Cache holds on
//     index/users.lock (Cache::JoinUsers); taking it exclusively proves nobody else is there.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <set>

#include "blob_keys.h"
#include "cache_index.h"
#include "file_locks.h"
#include "hubfs/cache/cache.h"
#include "lmdb_env.h"
#include "record_codec.h"

namespace hubfs::cache {
namespace {

constexpr char kUsedKey[] = "used_bytes";
constexpr char kReservedKey[] = "reserved_bytes";

uint64_t LoadU64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v |= uint64_t(static_cast<uint8_t>(s[i])) << (8 * i);
  return v;
}

std::string StoreU64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// The record a pinned blob keeps once its bytes are gone: what OpenBlob would create, pinned.
BlobRecord EmptyPinned(const BlobRecord& old) {
  BlobRecord fresh;
  fresh.size = old.size;
  if (old.published) fresh.sha256 = old.sha256;
  fresh.published = old.published;
  fresh.pinned = true;
  fresh.source_url = old.source_url;
  fresh.created = static_cast<int64_t>(std::time(nullptr));
  fresh.last_access = old.last_access;
  return fresh;
}

// A blob file opened for checking or removal, holding the shared in-use lock (so no evictor
// deletes it under us) when `locked`.
struct BlobFile {
  int fd = -1;
  bool locked = false;
  ~BlobFile() {
    if (fd >= 0) ::close(fd);  // releases every lock of this descriptor
  }
};

}  // namespace

Result<CacheSummary> Cache::Summarize() {
  CacheSummary summary;
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), true));
  HUBFS_ASSIGN_OR_RETURN(auto used, txn.Get(index_->meta, kUsedKey));
  HUBFS_ASSIGN_OR_RETURN(auto reserved, txn.Get(index_->meta, kReservedKey));
  summary.used_bytes = used ? LoadU64(*used) : 0;
  summary.reserved_bytes = reserved ? LoadU64(*reserved) : 0;
  HUBFS_RETURN_IF_ERROR(txn.ForEachWithPrefix(index_->blobs, "", [&](std::string_view k, std::string_view v) {
    auto record = DecodeBlobRecord(v);
    if (record) {
      summary.blobs.push_back({std::string(k), std::move(record).value()});
    } else {
      ++summary.malformed_blobs;
    }
    return true;
  }));
  HUBFS_RETURN_IF_ERROR(txn.ForEachWithPrefix(index_->docs, "", [&](std::string_view k, std::string_view) {
    if (StartsWith(k, "size ")) {
      ++summary.size_records;
    } else if (StartsWith(k, "trust ")) {
      ++summary.trust_records;
    } else if (StartsWith(k, "absent ")) {
      ++summary.absent_records;
    } else {
      ++summary.documents;
    }
    return true;
  }));
  return summary;
}

// Deletes the records of `key` and its block records in one transaction (keeping a pinned
// blob's pin as an empty record), then its file. The caller holds the exclusive in-use lock.
static Status RemoveLocked(Cache::Index& index, const std::string& key, const std::string& path) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index.env.get(), false));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(index.blobs, key));
  std::optional<BlobRecord> record;
  if (value) {
    if (auto decoded = DecodeBlobRecord(*value)) record = std::move(decoded).value();
  }
  const uint64_t size = record ? record->size : 0;
  std::vector<std::string> block_keys;
  uint64_t freed = 0;
  HUBFS_RETURN_IF_ERROR(txn.ForEachWithPrefix(index.blocks, BlobIdOf(key), [&](std::string_view k, std::string_view v) {
    block_keys.emplace_back(k);
    auto block = DecodeBlockRecord(v);
    const uint64_t start = BlockIndexOf(k) * kBlockSize;
    if (block && block->present && start < size) freed += std::min(kBlockSize, size - start);
    return true;
  }));
  for (const auto& k : block_keys) HUBFS_RETURN_IF_ERROR(txn.Delete(index.blocks, k));
  HUBFS_ASSIGN_OR_RETURN(auto used, txn.Get(index.meta, kUsedKey));
  const uint64_t before = used ? LoadU64(*used) : 0;
  HUBFS_RETURN_IF_ERROR(txn.Put(index.meta, kUsedKey, StoreU64(before > freed ? before - freed : 0)));
  if (record && record->pinned) {
    HUBFS_RETURN_IF_ERROR(txn.Put(index.blobs, key, EncodeBlobRecord(EmptyPinned(*record))));
  } else {
    HUBFS_RETURN_IF_ERROR(txn.Delete(index.blobs, key));
  }
  HUBFS_RETURN_IF_ERROR(txn.Commit());
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno(errno, "unlink " + path);
  return Status();
}

// Checks one blob's present blocks (and whole-file sha256 when verified and complete). Returns
// the problem, or "" when it is fine or was evicted/changed meanwhile.
static Result<std::string> CheckBlob(Cache::Index& index, const BlobEntry& entry, int fd, VerifyReport* report,
                                     const std::function<void(uint64_t)>& advanced) {
  const BlobRecord& record = entry.record;
  struct Block {
    uint64_t index;
    BlockDigest digest;
  };
  std::vector<Block> present;
  const std::string id = BlobIdOf(entry.key);
  {
    HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index.env.get(), true));
    HUBFS_RETURN_IF_ERROR(txn.ForEachWithPrefix(index.blocks, id, [&](std::string_view k, std::string_view v) {
      auto block = DecodeBlockRecord(v);
      if (block && block->present && BlockIndexOf(k) * kBlockSize < record.size) {
        present.push_back({BlockIndexOf(k), block->digest});
      }
      return true;
    }));
  }
  const uint64_t block_count = (record.size + kBlockSize - 1) / kBlockSize;
  const bool whole = record.state == BlobState::kVerified && record.sha256 && present.size() == block_count;
  Sha256 sha;
  std::string buf(kBlockSize, '\0');
  std::vector<std::string> damaged;
  for (const Block& block : present) {
    const uint64_t start = block.index * kBlockSize;
    const size_t length = static_cast<size_t>(std::min(kBlockSize, record.size - start));
    size_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(fd, buf.data() + done, length - done, static_cast<off_t>(start + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ++report->blocks;
    report->bytes += length;
    advanced(length);
    const std::string_view data(buf.data(), length);
    if (done == length && DigestBlock(data) == block.digest) {
      if (whole) sha.Update(data);
      continue;
    }
    // A block dropped and fetched again by a daemon meanwhile is not damage: look again.
    HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index.env.get(), true));
    HUBFS_ASSIGN_OR_RETURN(auto now, txn.Get(index.blocks, BlockKey(id, block.index)));
    auto info = now ? DecodeBlockRecord(*now) : Result<BlockInfo>(Status::NotFound(""));
    if (!info || !info->present || info->digest != block.digest) return std::string();
    damaged.push_back(std::to_string(block.index) + (done == length ? "" : " (short: file truncated)"));
  }
  if (!damaged.empty()) {
    std::string list;
    for (const auto& d : damaged) list += (list.empty() ? "" : ", ") + d;
    return "damaged on disk: block" + std::string(damaged.size() > 1 ? "s " : " ") + list +
           " do" + (damaged.size() > 1 ? "" : "es") + " not match the recorded XXH3-128";
  }
  if (whole) {
    ++report->hashed_blobs;
    const Digest got = sha.Finish();
    if (got != *record.sha256) {
      return "sha256 of the cached bytes is " + ToHex(got) + ", expected " + ToHex(*record.sha256);
    }
  }
  return std::string();
}

Result<VerifyReport> Cache::Verify(const VerifyOptions& options) {
  HUBFS_ASSIGN_OR_RETURN(CacheSummary summary, Summarize());
  VerifyReport report;
  uint64_t total = 0, finished = 0;  // bytes recorded present: all, and of blobs done
  for (const BlobEntry& e : summary.blobs) total += e.record.cached_bytes;
  for (const BlobEntry& entry : summary.blobs) {
    uint64_t in_blob = 0;
    auto advanced = [&](uint64_t bytes) {
      in_blob += bytes;
      if (options.progress) options.progress(std::min(total, finished + in_blob), total);
    };
    ++report.blobs;
    BadBlob bad{entry.key, entry.record.source_url, BlobPath(entry.key), "", false, false};
    BlobFile file;
    file.fd = ::open(bad.path.c_str(), O_RDWR | O_CLOEXEC);
    if (entry.record.state == BlobState::kPoisoned) {
      bad.problem = "poisoned: " + entry.record.note;
    } else if (file.fd < 0 && errno == ENOENT) {
      if (entry.record.cached_bytes > 0) {
        bad.problem = "its file is missing, but the index records " + std::to_string(entry.record.cached_bytes) +
                      " bytes present";
      }
    } else if (file.fd < 0) {
      return Status::FromErrno(errno, "open " + bad.path);
    } else if (LockInUse(file.fd, /*wait=*/false).ok()) {  // else being evicted: skip it
      file.locked = true;
      struct stat st {};
      if (::fstat(file.fd, &st) == 0 && st.st_nlink > 0) {
        HUBFS_ASSIGN_OR_RETURN(bad.problem, CheckBlob(*index_, entry, file.fd, &report, advanced));
      }
    }
    if (!bad.problem.empty()) {
      if (options.fix) {
        // Converting our shared lock to exclusive succeeds only if no other process has it open.
        if (file.fd < 0 || LockEvict(file.fd).ok()) {
          HUBFS_RETURN_IF_ERROR(RemoveLocked(*index_, entry.key, bad.path));
          bad.removed = true;
        } else {
          bad.in_use = true;
        }
      }
      report.bad.push_back(std::move(bad));
    }
    finished += entry.record.cached_bytes;
    if (options.progress) options.progress(std::min(total, finished), total);
  }
  if (options.fix && !report.bad.empty()) HUBFS_RETURN_IF_ERROR(Sync());
  return report;
}

Result<ShrinkReport> Cache::ShrinkTo(uint64_t target_bytes) {
  ShrinkReport report;
  HUBFS_ASSIGN_OR_RETURN(CacheSummary before, Summarize());
  report.used_before = before.used_bytes;
  uint64_t used = before.used_bytes;
  while (used > target_bytes) {
    bool evicted = false;
    HUBFS_RETURN_IF_ERROR(EvictOne(&evicted));
    if (!evicted) break;  // only pinned or open blobs are left
    used = Usage().used_bytes;
  }
  HUBFS_ASSIGN_OR_RETURN(CacheSummary after, Summarize());
  report.used_after = after.used_bytes;
  std::set<std::string> remaining;
  for (const BlobEntry& e : after.blobs) {
    if (e.record.cached_bytes > 0) remaining.insert(e.key);
  }
  for (const BlobEntry& e : before.blobs) {
    if (e.record.cached_bytes > 0 && !remaining.count(e.key)) {
      report.evicted.push_back({e.key, e.record.source_url, e.record.cached_bytes});
    }
  }
  return report;
}

bool Cache::HasOtherUsers() {
  if (!LockEvict(users_fd_).ok()) return true;
  (void)LockInUse(users_fd_, /*wait=*/false);  // back to shared; we were alone, so it cannot fail
  return false;
}

Result<ClearReport> Cache::Clear(bool force) {
  ClearReport report;
  report.exclusive = LockEvict(users_fd_).ok();
  // Held exclusively until the end: a daemon that starts meanwhile waits in Cache::Open.
  struct Share {
    int fd;
    bool active;
    ~Share() {
      if (active) (void)LockInUse(fd, /*wait=*/false);
    }
  } share_again{users_fd_, report.exclusive};
  if (!report.exclusive && !force) {
    return Status::FailedPrecondition("the cache " + dir_ + " is in use by another hubfs process");
  }
  HUBFS_ASSIGN_OR_RETURN(CacheSummary summary, Summarize());
  for (const BlobEntry& entry : summary.blobs) {
    const std::string path = BlobPath(entry.key);
    BlobFile file;
    file.fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (file.fd >= 0 && !LockEvict(file.fd).ok()) {
      ++report.kept_open_blobs;
      report.kept_open_bytes += entry.record.cached_bytes;
      continue;
    }
    HUBFS_RETURN_IF_ERROR(RemoveLocked(*index_, entry.key, path));
    ++report.removed_blobs;
    report.removed_bytes += entry.record.cached_bytes;
    if (entry.record.pinned) ++report.pins_kept;
  }
  {
    HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
    std::vector<std::string> doc_keys;
    HUBFS_RETURN_IF_ERROR(txn.ForEachWithPrefix(index_->docs, "", [&](std::string_view k, std::string_view) {
      doc_keys.emplace_back(k);
      return true;
    }));
    for (const auto& k : doc_keys) HUBFS_RETURN_IF_ERROR(txn.Delete(index_->docs, k));
    report.documents_removed = doc_keys.size();
    if (report.exclusive) {
      // Nobody else is here: also drop what no blob record names (blocks of malformed records,
      // bytes of interrupted writes) and start the counters from zero.
      int rc = mdb_drop(txn.get(), index_->blocks, 0);
      if (rc != 0) return LmdbError(rc, "emptying the block records");
      std::vector<std::string> malformed;
      HUBFS_RETURN_IF_ERROR(txn.ForEachWithPrefix(index_->blobs, "", [&](std::string_view k, std::string_view v) {
        if (!DecodeBlobRecord(v)) malformed.emplace_back(k);
        return true;
      }));
      for (const auto& k : malformed) HUBFS_RETURN_IF_ERROR(txn.Delete(index_->blobs, k));
      HUBFS_RETURN_IF_ERROR(txn.Put(index_->meta, kUsedKey, StoreU64(0)));
      HUBFS_RETURN_IF_ERROR(txn.Put(index_->meta, kReservedKey, StoreU64(0)));
    }
    HUBFS_RETURN_IF_ERROR(txn.Commit());
  }
  HUBFS_RETURN_IF_ERROR(Sync());
  if (report.exclusive) {
    // Files no record names any more (a crash between creating a file and its record).
    std::error_code ec;
    std::filesystem::remove_all(dir_ + "/blobs", ec);
    if (ec) return Status::IoError("removing " + dir_ + "/blobs: " + ec.message());
    if (::mkdir((dir_ + "/blobs").c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::FromErrno(errno, "mkdir " + dir_ + "/blobs");
    }
  }
  return report;
}

}  // namespace hubfs::cache
