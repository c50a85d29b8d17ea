#include "stage_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "hubfs/core/sha256.h"

namespace hubfs::app {
namespace {

constexpr size_t kChunk = 1 << 20;  // the mount serves 1 MiB reads fastest
constexpr char kShaAttr[] = "user.hubfs.sha256";

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Removes the temporary file unless told it was renamed.
struct TempFile {
  std::string path;
  bool keep = false;
  ~TempFile() {
    if (!keep) ::unlink(path.c_str());
  }
};

bool SameTime(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

Status WriteAll(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "writing " + path);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status();
}

// Hashes the open file `fd` to its end.
Result<std::string> HashFd(int fd, const std::string& path) {
  Sha256 sha;
  std::vector<char> buffer(kChunk);
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "reading " + path);
    if (n == 0) break;
    sha.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
  }
  return ToHex(sha.Finish());
}

}  // namespace

std::string StagedSha256(const std::string& path, const struct timespec& mtime) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.fd < 0) return "";
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0 || !S_ISREG(st.st_mode)) return "";
  char value[65];
  const ssize_t n = ::fgetxattr(fd.fd, kShaAttr, value, sizeof value);
  if (n == 64 && SameTime(st.st_mtim, mtime)) return std::string(value, 64);
  auto hashed = HashFd(fd.fd, path);
  return hashed ? *hashed : "";
}

Result<StageOutcome> StageCopy(const StageCopyRequest& request) {
  struct stat src {};
  if (::stat(request.source.c_str(), &src) != 0) return Status::FromErrno(errno, request.source);
  if (!S_ISREG(src.st_mode)) return Status::InvalidArgument(request.source + " is not a regular file");
  const auto size = static_cast<uint64_t>(src.st_size);

  // Up to date: same size and the sha256 the mount knows for the source.
  struct stat dst {};
  if (::lstat(request.dest.c_str(), &dst) == 0) {
    if (!S_ISREG(dst.st_mode)) {
      return Status::FailedPrecondition(request.dest + " exists and is not a regular file; not replaced");
    }
    const std::string known = request.sha256 ? request.sha256() : "";
    if (!known.empty() && static_cast<uint64_t>(dst.st_size) == size && StagedSha256(request.dest, src.st_mtim) == known) {
      return StageOutcome::kUpToDate;
    }
  } else if (errno != ENOENT) {
    return Status::FromErrno(errno, request.dest);
  }

  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(request.dest).parent_path(), ec);
  if (ec) return Status::IoError("creating the folder of " + request.dest + ": " + ec.message());

  Fd in(::open(request.source.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) return Status::FromErrno(errno, request.source);
  // Pages the kernel kept from an earlier read would bypass hubfs (whose cache may have evicted
  // them): drop them, and ask for a generous readahead.
  ::posix_fadvise(in.fd, 0, 0, POSIX_FADV_DONTNEED);
  ::posix_fadvise(in.fd, 0, 0, POSIX_FADV_SEQUENTIAL);

  ::unlink(request.temp.c_str());  // a leftover of a killed run with the same process id
  TempFile temp{request.temp};
  Fd out(::open(request.temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (out.fd < 0) {
    temp.keep = true;  // not ours
    return Status::FromErrno(errno, "creating " + request.temp);
  }

  Sha256 sha;
  std::vector<char> buffer(kChunk);
  uint64_t copied = 0;
  for (;;) {
    if (request.stop && request.stop->load()) return Status::Cancelled("stopped");
    ssize_t n = ::read(in.fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "reading " + request.source);
    if (n == 0) break;
    const auto got = static_cast<size_t>(n);
    sha.Update(std::string_view(buffer.data(), got));
    HUBFS_RETURN_IF_ERROR(WriteAll(out.fd, buffer.data(), got, request.temp));
    copied += got;
    if (request.progress) request.progress(copied);
  }
  if (copied != size) {
    return Status::DataLoss(fmt::format("{} ended after {} of {} bytes", request.source, copied, size));
  }
  const std::string digest = ToHex(sha.Finish());
  if (const std::string known = request.sha256 ? request.sha256() : ""; !known.empty() && known != digest) {
    return Status::DataLoss(fmt::format("the bytes read have sha256 {}, not the file's {}", digest, known));
  }
  if (::fsync(out.fd) != 0) return Status::FromErrno(errno, "syncing " + request.temp);
  const struct timespec times[2] = {{0, UTIME_OMIT}, src.st_mtim};
  if (::futimens(out.fd, times) != 0) return Status::FromErrno(errno, "setting the time of " + request.temp);
  // Best effort: a filesystem without user attributes gets its copies hashed by the next run.
  (void)::fsetxattr(out.fd, kShaAttr, digest.data(), digest.size(), 0);
  if (::close(out.fd) != 0) {
    out.fd = -1;
    return Status::FromErrno(errno, "writing " + request.temp);
  }
  out.fd = -1;
  if (::rename(request.temp.c_str(), request.dest.c_str()) != 0) {
    return Status::FromErrno(errno, "renaming " + request.temp + " to " + request.dest);
  }
  temp.keep = true;
  return StageOutcome::kCopied;
}

}  // namespace hubfs::app
