// ImportBlob (blob_import.h): two passes over a local file, hash first, then copy what is
// missing, block by block, checked against what the first pass hashed.
#include "hubfs/cache/blob_import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "hubfs/core/sha256.h"

namespace hubfs::cache {
namespace {

// The source file, read-only, closed on every path out.
class SourceFile {
 public:
  ~SourceFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused right after).
  Status Open(const std::string& path) {
    constexpr int kFlags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
    fd_ = ::open(path.c_str(), kFlags | O_NOATIME);
    if (fd_ < 0 && errno == EPERM) fd_ = ::open(path.c_str(), kFlags);  // O_NOATIME: owner only
    if (fd_ < 0 && errno == ELOOP) return Status::FailedPrecondition(path + " is a symbolic link");
    if (fd_ < 0 && errno == ENOENT) return Status::NotFound(path + " is gone");  // the client removed it
    if (fd_ < 0) return Status::FromErrno(errno, "open " + path);
    return Status();
  }
  Result<struct stat> Stat(const std::string& path) const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return Status::FromErrno(errno, "fstat " + path);
    return st;
  }
  // Reads up to `size` bytes at `offset`; fewer only at end of file.
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t size, const std::string& path) const {
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(fd_, buf + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno(errno, "reading " + path);
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

 private:
  int fd_ = -1;
};

struct BlockUnlock {
  Blob& blob;
  uint64_t index;
  ~BlockUnlock() { blob.UnlockBlock(index); }
};

struct UseRelease {
  Blob& blob;
  ~UseRelease() { blob.ReleaseUse(); }
};

bool Cancelled(const ImportOptions& options) { return options.cancelled && options.cancelled(); }

// Pass 1: the whole file's sha256 and each block's digest. Also checks the length.
Status HashSource(const SourceFile& source, const std::string& path, uint64_t size, std::vector<char>& buf,
                  const ImportOptions& options, Digest* sha256, std::vector<BlockDigest>* digests,
                  uint64_t* hashed) {
  Sha256 hasher;
  const uint64_t blocks = (size + kBlockSize - 1) / kBlockSize;
  for (uint64_t i = 0; i < blocks; ++i) {
    if (Cancelled(options)) return Status::Cancelled("import of " + path + " stopped");
    const size_t length = static_cast<size_t>(std::min(kBlockSize, size - i * kBlockSize));
    HUBFS_ASSIGN_OR_RETURN(size_t n, source.ReadAt(i * kBlockSize, buf.data(), length, path));
    *hashed += n;
    if (n != length) return Status::DataLoss(path + " became shorter while it was read");
    const std::string_view data(buf.data(), n);
    hasher.Update(data);
    digests->push_back(DigestBlock(data));
  }
  HUBFS_ASSIGN_OR_RETURN(size_t extra, source.ReadAt(size, buf.data(), 1, path));
  if (extra != 0) return Status::DataLoss(path + " grew while it was read");
  *sha256 = hasher.Finish();
  return Status();
}

// Pass 2 for one block: copies it unless some process stored it meanwhile.
Status CopyBlock(Blob& blob, uint64_t index, const SourceFile& source, const std::string& path,
                 std::vector<char>& buf, const BlockDigest& expected, ImportOutcome* outcome) {
  HUBFS_ASSIGN_OR_RETURN(BlockInfo info, blob.Block(index));
  if (info.digest_known && info.digest != expected) {
    return Status::FailedPrecondition("block " + std::to_string(index) + " of " + blob.key() +
                                      " is recorded with other bytes than " + path + " holds");
  }
  if (info.present) return Status();
  const size_t length = blob.BlockLength(index);
  HUBFS_ASSIGN_OR_RETURN(size_t n, source.ReadAt(index * kBlockSize, buf.data(), length, path));
  outcome->bytes_hashed += n;
  const std::string_view data(buf.data(), n);
  if (n != length || DigestBlock(data) != expected) {
    return Status::DataLoss(path + " changed while it was imported");
  }
  // As a download does: wait for a process fetching this block, then look again.
  HUBFS_RETURN_IF_ERROR(blob.LockBlock(index));
  BlockUnlock unlock{blob, index};
  HUBFS_ASSIGN_OR_RETURN(info, blob.Block(index));
  if (info.present) return Status();
  HUBFS_ASSIGN_OR_RETURN(Blob::Writer writer, blob.WriteBlockWithoutEviction(index));
  HUBFS_RETURN_IF_ERROR(writer.Append(data));
  HUBFS_RETURN_IF_ERROR(writer.Commit());
  outcome->bytes_copied += n;
  return Status();
}

}  // namespace

Result<ImportOutcome> ImportBlob(Cache& cache, const BlobSpec& spec, const std::string& path,
                                 const ImportOptions& options) {
  if (!spec.sha256) return Status::InvalidArgument("importing " + path + ": no sha256 to check it against");
  const std::string key = BlobKeyForDigest(*spec.sha256);
  ImportOutcome outcome;
  HUBFS_ASSIGN_OR_RETURN(auto existing, cache.GetBlob(key));
  if (existing && existing->size != spec.size) {
    // Opening it with another size would start it over under its readers: leave it to them.
    return Status::FailedPrecondition(key + " is recorded with " + std::to_string(existing->size) +
                                      " bytes, not " + std::to_string(spec.size));
  }
  if (existing) {
    if (existing->state == BlobState::kVerified && existing->cached_bytes == spec.size) {
      outcome.already_verified = true;
      return outcome;
    }
    if (existing->state == BlobState::kPoisoned) {
      return Status::FailedPrecondition(key + " is poisoned: " + existing->note);
    }
  }

  SourceFile source;
  HUBFS_RETURN_IF_ERROR(source.Open(path));
  HUBFS_ASSIGN_OR_RETURN(struct stat st, source.Stat(path));
  if (!S_ISREG(st.st_mode)) return Status::FailedPrecondition(path + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) != spec.size) {
    return Status::FailedPrecondition(path + " has " + std::to_string(st.st_size) + " bytes, not " +
                                      std::to_string(spec.size));
  }
  // Room without evicting: checked before reading anything (Reserve checks again per block).
  const uint64_t cached = existing ? existing->cached_bytes : 0;
  const uint64_t needed = spec.size - std::min(cached, spec.size);
  const CacheUsage usage = cache.Usage();
  const uint64_t taken = usage.used_bytes + usage.reserved_bytes;
  if (taken > usage.size_limit || needed > usage.size_limit - taken) {
    return Status::ResourceExhausted("no room for " + std::to_string(needed) + " bytes of " + path +
                                     " without evicting cached files");
  }

  std::vector<char> buf(kBlockSize);
  Digest actual{};
  std::vector<BlockDigest> digests;
  HUBFS_RETURN_IF_ERROR(HashSource(source, path, spec.size, buf, options, &actual, &digests,
                                   &outcome.bytes_hashed));
  if (actual != *spec.sha256) {
    return Status::DataLoss(path + ": sha256 is " + ToHex(actual) + ", not " + ToHex(*spec.sha256));
  }

  HUBFS_ASSIGN_OR_RETURN(std::shared_ptr<Blob> blob, cache.OpenBlob(key, spec));
  HUBFS_RETURN_IF_ERROR(blob->AcquireUse());  // not evicted while it fills
  UseRelease release{*blob};
  for (uint64_t i = 0; i < blob->block_count(); ++i) {
    if (Cancelled(options)) return Status::Cancelled("import of " + path + " stopped");
    HUBFS_RETURN_IF_ERROR(CopyBlock(*blob, i, source, path, buf, digests[i], &outcome));
  }
  // Every block is now on disk with a digest of bytes whose sha256 was checked.
  for (uint64_t i = 0; i < blob->block_count(); ++i) {
    HUBFS_ASSIGN_OR_RETURN(BlockInfo info, blob->Block(i));
    if (!info.present || info.digest != digests[i]) {
      return Status::DataLoss("block " + std::to_string(i) + " of " + key + " changed during the import of " + path);
    }
  }
  HUBFS_RETURN_IF_ERROR(blob->MarkVerified(*spec.sha256));
  return outcome;
}

}  // namespace hubfs::cache
