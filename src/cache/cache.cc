#include "hubfs/cache/cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>

#include "lmdb_env.h"
#include "record_codec.h"

namespace hubfs::cache {
namespace fs = std::filesystem;

namespace {

constexpr char kVersionKey[] = "format_version";
// Virtual size of the index map. Blob data lives outside LMDB, so records and cached manifests
// stay far below this; the map is sparse and costs nothing until used.
constexpr size_t kMapSize = size_t{1} << 32;
// Temporary blobs older than this belong to a writer that died.
constexpr auto kStaleTmpAge = std::chrono::hours(1);

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return Status();
  return Status::FromErrno(errno, "mkdir " + path);
}

void RemoveStaleTmp(const std::string& tmp_dir) {
  std::error_code ec;
  auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(tmp_dir, ec)) {
    auto mtime = entry.last_write_time(ec);
    if (!ec && now - mtime > kStaleTmpAge) fs::remove(entry.path(), ec);
  }
}

}  // namespace

struct Cache::Index {
  LmdbEnv env;
  MDB_dbi meta = 0;
  MDB_dbi blobs = 0;
  MDB_dbi docs = 0;
};

namespace {

// Opens the named databases once; their handles stay valid for the environment's lifetime.
Status OpenDbis(MDB_env* env, MDB_dbi* meta, MDB_dbi* blobs, MDB_dbi* docs) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(env, /*read_only=*/false));
  int rc;
  if ((rc = mdb_dbi_open(txn.get(), "meta", MDB_CREATE, meta)) != 0) return LmdbError(rc, "open meta db");
  if ((rc = mdb_dbi_open(txn.get(), "blobs", MDB_CREATE, blobs)) != 0) return LmdbError(rc, "open blobs db");
  if ((rc = mdb_dbi_open(txn.get(), "docs", MDB_CREATE, docs)) != 0) return LmdbError(rc, "open docs db");
  return txn.Commit();
}

Result<std::unique_ptr<Cache::Index>> OpenIndex(const std::string& path) {
  HUBFS_ASSIGN_OR_RETURN(auto env, LmdbEnv::Open(path, kMapSize, 8));
  MDB_dbi meta, blobs, docs;
  HUBFS_RETURN_IF_ERROR(OpenDbis(env.get(), &meta, &blobs, &docs));
  return std::unique_ptr<Cache::Index>(new Cache::Index{std::move(env), meta, blobs, docs});
}

// Returns the stored format version, or 0 for a new (empty) index.
Result<uint32_t> ReadVersion(Cache::Index& index) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index.env.get(), true));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(index.meta, kVersionKey));
  if (!value) return uint32_t{0};
  if (value->size() != 4) return uint32_t{0xffffffff};  // not a version we ever wrote
  uint32_t version = 0;
  for (int i = 0; i < 4; ++i) version |= uint32_t(static_cast<uint8_t>((*value)[i])) << (8 * i);
  return version;
}

Status WriteVersion(Cache::Index& index) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index.env.get(), false));
  char v[4];
  for (int i = 0; i < 4; ++i) v[i] = static_cast<char>(kFormatVersion >> (8 * i));
  HUBFS_RETURN_IF_ERROR(txn.Put(index.meta, kVersionKey, std::string_view(v, 4)));
  return txn.Commit();
}

}  // namespace

Result<std::unique_ptr<Cache>> Cache::Open(const std::string& dir) {
  HUBFS_RETURN_IF_ERROR(MakeDir(dir));
  const std::string index_dir = dir + "/index";
  HUBFS_RETURN_IF_ERROR(MakeDir(index_dir));
  HUBFS_ASSIGN_OR_RETURN(auto index, OpenIndex(index_dir));
  HUBFS_ASSIGN_OR_RETURN(uint32_t version, ReadVersion(*index));
  if (version != 0 && version != kFormatVersion) {
    // Another format: rebuild rather than misread. Blobs go too, since records name them.
    index.reset();
    std::error_code ec;
    fs::remove_all(index_dir, ec);
    fs::remove_all(dir + "/blobs", ec);
    HUBFS_RETURN_IF_ERROR(MakeDir(index_dir));
    HUBFS_ASSIGN_OR_RETURN(index, OpenIndex(index_dir));
    version = 0;
  }
  if (version == 0) HUBFS_RETURN_IF_ERROR(WriteVersion(*index));
  HUBFS_RETURN_IF_ERROR(MakeDir(dir + "/blobs"));
  HUBFS_RETURN_IF_ERROR(MakeDir(dir + "/tmp"));
  RemoveStaleTmp(dir + "/tmp");
  return std::unique_ptr<Cache>(new Cache(dir, std::move(index)));
}

Cache::Cache(std::string dir, std::unique_ptr<Index> index)
    : dir_(std::move(dir)), index_(std::move(index)) {}

Cache::~Cache() = default;

std::string BlobKeyForDigest(const Digest& sha256) { return "sha256:" + ToHex(sha256); }

std::string BlobKeyForUrl(std::string_view url) { return "url:" + ToHex(Sha256::Of(url)); }

std::string Cache::BlobPath(const std::string& key) const {
  // Keys are "<kind>:<64 hex>"; the file name swaps ':' for '-' and the folder is 2 hex digits.
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

Result<std::unique_ptr<BlobWriter>> Cache::NewBlob() {
  std::string path = dir_ + "/tmp/blob.XXXXXX";
  int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "creating a temporary blob in " + dir_ + "/tmp");
  return std::make_unique<BlobWriter>(fd, path);
}

Status Cache::CommitBlob(std::unique_ptr<BlobWriter> writer, const std::string& key,
                         const BlobRecord& record) {
  if (::fsync(writer->fd_) != 0) return Status::FromErrno(errno, "fsync " + writer->path_);
  const std::string path = BlobPath(key);
  HUBFS_RETURN_IF_ERROR(MakeDir(path.substr(0, path.rfind('/'))));
  if (::rename(writer->path_.c_str(), path.c_str()) != 0) {
    return Status::FromErrno(errno, "rename " + writer->path_ + " to " + path);
  }
  writer->committed_ = true;
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
  HUBFS_RETURN_IF_ERROR(txn.Put(index_->blobs, key, EncodeBlobRecord(record)));
  return txn.Commit();
}

Result<std::shared_ptr<BlobFile>> Cache::OpenBlob(const std::string& key) {
  HUBFS_ASSIGN_OR_RETURN(auto record, GetBlob(key));
  if (!record) return Status::NotFound("blob " + key + " is not cached");
  const std::string path = BlobPath(key);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st{};
  if (fd < 0 || ::fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_size) != record->size) {
    // The index names data that is gone or damaged: forget it, so it is fetched again.
    if (fd >= 0) ::close(fd);
    HUBFS_RETURN_IF_ERROR(RemoveBlob(key));
    return Status::NotFound("blob " + key + " was missing or truncated on disk; dropped");
  }
  return std::make_shared<BlobFile>(fd, record->size);
}

Status Cache::RemoveBlob(const std::string& key) {
  {
    HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
    HUBFS_RETURN_IF_ERROR(txn.Delete(index_->blobs, key));
    HUBFS_RETURN_IF_ERROR(txn.Commit());
  }
  if (::unlink(BlobPath(key).c_str()) != 0 && errno != ENOENT) {
    return Status::FromErrno(errno, "unlink " + BlobPath(key));
  }
  return Status();
}

Status Cache::TouchBlob(const std::string& key, int64_t now) {
  HUBFS_ASSIGN_OR_RETURN(auto txn, LmdbTxn::Begin(index_->env.get(), false));
  HUBFS_ASSIGN_OR_RETURN(auto value, txn.Get(index_->blobs, key));
  if (!value) return Status();
  auto record = DecodeBlobRecord(*value);
  if (!record) return Status();
  record->last_access = now;
  HUBFS_RETURN_IF_ERROR(txn.Put(index_->blobs, key, EncodeBlobRecord(*record)));
  return txn.Commit();
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

BlobFile::~BlobFile() { ::close(fd_); }

Result<size_t> BlobFile::ReadAt(uint64_t offset, char* buf, size_t size) const {
  size_t done = 0;
  while (done < size && offset + done < size_) {
    ssize_t n = ::pread(fd_, buf + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "reading a cached blob");
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

BlobWriter::~BlobWriter() {
  ::close(fd_);
  if (!committed_) ::unlink(path_.c_str());
}

Status BlobWriter::Append(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "writing " + path_);
    }
    data.remove_prefix(static_cast<size_t>(n));
    written_ += static_cast<uint64_t>(n);
  }
  return Status();
}

}  // namespace hubfs::cache
