#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

#include "blob_keys.h"
#include "cache_index.h"
#include "file_locks.h"
#include "hubfs/cache/cache.h"
#include "lmdb_env.h"
#include "record_codec.h"

namespace hubfs::cache {

Blob::Blob(Cache& cache, std::string key, uint64_t size, int fd)
    : cache_(cache), key_(std::move(key)), id_(BlobIdOf(key_)), size_(size), fd_(fd) {}

Blob::~Blob() { ::close(fd_); }  // also releases this blob's locks

size_t Blob::BlockLength(uint64_t index) const {
  const uint64_t start = index * kBlockSize;
  return start >= size_ ? 0 : static_cast<size_t>(std::min(kBlockSize, size_ - start));
}

Result<BlobRecord> Blob::Record() const {
  HUBFS_ASSIGN_OR_RETURN(auto record, cache_.GetBlob(key_));
  if (!record) return Status::NotFound("blob " + key_ + " has no record (evicted?)");
  return *record;
}

Result<BlockInfo> Blob::Block(uint64_t index) const {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(cache_.index_->env.get(), true));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(cache_.index_->blocks, BlockKey(id_, index)));
  if (!value) return BlockInfo{};
  auto info = DecodeBlockRecord(*value);
  return info ? *info : BlockInfo{};
}

Result<std::vector<bool>> Blob::PresentBlocks() const {
  std::vector<bool> present(block_count(), false);
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(cache_.index_->env.get(), true));
  HUBFS_RETURN_IF_ERROR(txn.ForEachWithPrefix(cache_.index_->blocks, id_, [&](std::string_view k, std::string_view v) {
    auto info = DecodeBlockRecord(v);
    const uint64_t index = BlockIndexOf(k);
    if (info && info->present && index < present.size()) present[index] = true;
    return true;
  }));
  return present;
}

Status Blob::ReadBlock(uint64_t index, char* buf) const {
  HUBFS_ASSIGN_OR_RETURN(BlockInfo info, Block(index));
  if (!info.present) return Status::NotFound("block " + std::to_string(index) + " of " + key_);
  const size_t length = BlockLength(index);
  size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd_, buf + done, length - done, static_cast<off_t>(index * kBlockSize + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "reading block " + std::to_string(index) + " of " + key_);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  if (done != length || DigestBlock(std::string_view(buf, length)) != info.digest) {
    HUBFS_RETURN_IF_ERROR(cache_.DropBlock(*this, index));
    return Status::DataLoss("block " + std::to_string(index) + " of " + key_ +
                            " was damaged on disk; dropped");
  }
  return Status();
}

Result<size_t> Blob::ReadUnchecked(uint64_t offset, char* buf, size_t size) const {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, buf + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "reading " + key_);
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Blob::Writer::Writer(Blob& blob, uint64_t index)
    : blob_(&blob), index_(index), hasher_(std::make_unique<BlockHasher>()) {}

Blob::Writer::Writer(Writer&& other) noexcept
    : blob_(other.blob_), index_(other.index_), written_(other.written_), reserved_(other.reserved_),
      hasher_(std::move(other.hasher_)) {
  other.reserved_ = false;
}

Blob::Writer::~Writer() {
  if (!reserved_) return;
  // Never committed: free the bytes it wrote and its reservation. A writer that wrote nothing
  // leaves the file alone: another writer (a whole-file GET) may have filled the block since.
  if (written_ > 0) PunchHole(blob_->fd_, index_ * kBlockSize, blob_->BlockLength(index_));
  blob_->cache_.Unreserve(blob_->BlockLength(index_));
}

Result<Blob::Writer> Blob::WriteBlock(uint64_t index, bool background) {
  HUBFS_RETURN_IF_ERROR(
      cache_.Reserve(BlockLength(index), background ? last_access_.load() : INT64_MAX, key_));
  return Writer(*this, index);
}

Result<Blob::Writer> Blob::WriteBlockWithoutEviction(uint64_t index) {
  // No blob was last used before INT64_MIN: nothing is an eviction candidate.
  HUBFS_RETURN_IF_ERROR(cache_.Reserve(BlockLength(index), INT64_MIN, key_));
  return Writer(*this, index);
}

Status Blob::Writer::Append(std::string_view data) {
  const size_t length = blob_->BlockLength(index_);
  if (written_ + data.size() > length) {
    return Status::DataLoss("more bytes than block " + std::to_string(index_) + " holds");
  }
  hasher_->Update(data);
  const uint64_t base = index_ * kBlockSize + written_;
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(blob_->fd_, data.data() + done, data.size() - done, static_cast<off_t>(base + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "writing block " + std::to_string(index_) + " of " + blob_->key_);
    done += static_cast<size_t>(n);
  }
  written_ += data.size();
  return Status();
}

Status Blob::Writer::Commit() {
  const size_t length = blob_->BlockLength(index_);
  if (written_ != length) {
    return Status::DataLoss("block " + std::to_string(index_) + " got " + std::to_string(written_) +
                            " of " + std::to_string(length) + " bytes");
  }
  // CommitBlock consumes the reservation whatever it returns.
  reserved_ = false;
  Status s = blob_->cache_.CommitBlock(*blob_, index_, hasher_->Finish(), /*present=*/true,
                                       /*reserved=*/true);
  if (!s.ok()) PunchHole(blob_->fd_, index_ * kBlockSize, length);  // not recorded: free the space
  return s;
}

Status Blob::CheckBlock(uint64_t index, std::string_view data) const {
  HUBFS_ASSIGN_OR_RETURN(BlockInfo info, Block(index));
  if (info.digest_known && DigestBlock(data) != info.digest) {
    return Status::DataLoss("block " + std::to_string(index) + " of " + key_ +
                            " differs from the bytes seen before");
  }
  return Status();
}

Status Blob::RecordDigest(uint64_t index, std::string_view data) {
  return cache_.CommitBlock(*this, index, DigestBlock(data), /*present=*/false, /*reserved=*/false);
}

Status Blob::MarkVerified(const Digest& sha256) {
  HUBFS_RETURN_IF_ERROR(cache_.UpdateRecord(key_, [&](BlobRecord& r) {
    r.state = BlobState::kVerified;
    r.sha256 = sha256;
  }));
  return cache_.Sync();
}

Status Blob::MarkPoisoned(const std::string& why) {
  HUBFS_RETURN_IF_ERROR(cache_.UpdateRecord(key_, [&](BlobRecord& r) {
    r.state = BlobState::kPoisoned;
    r.note = why;
  }));
  // Its bytes must never be served again: drop them.
  for (uint64_t i = 0; i < block_count(); ++i) HUBFS_RETURN_IF_ERROR(cache_.DropBlock(*this, i));
  return cache_.Sync();
}

Status Blob::Touch() {
  const int64_t now = NowMillis();
  last_access_ = now;
  return cache_.UpdateRecord(key_, [now](BlobRecord& r) { r.last_access = now; });
}

Status Blob::AcquireUse() {
  std::lock_guard lock(use_mu_);
  if (uses_ == 0) HUBFS_RETURN_IF_ERROR(LockInUse(fd_, /*wait=*/true));
  ++uses_;
  return Status();
}

void Blob::ReleaseUse() {
  std::lock_guard lock(use_mu_);
  if (uses_ > 0 && --uses_ == 0) UnlockByte(fd_, kInUseOffset);
}

Status Blob::LockBlock(uint64_t index) { return LockByte(fd_, index * kBlockSize); }

void Blob::UnlockBlock(uint64_t index) { UnlockByte(fd_, index * kBlockSize); }

}  // namespace hubfs::cache
