#include "hubfs/net/local_file_client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

namespace hubfs::net {
namespace {

constexpr std::string_view kScheme = "file://";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> DecodePath(std::string_view encoded) {
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      out.push_back(encoded[i]);
      continue;
    }
    if (i + 2 >= encoded.size()) return std::nullopt;
    const int hi = HexValue(encoded[i + 1]), lo = HexValue(encoded[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

bool IsWithin(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  auto o = outer.begin(), i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

LocalFileClient::LocalFileClient(HttpClient& next, std::vector<std::string> roots) : next_(next) {
  for (const std::string& root : roots) {
    std::error_code ec;
    auto canonical = std::filesystem::canonical(root, ec);
    if (!ec) roots_.push_back(canonical.string());
  }
}

Result<HttpResponse> LocalFileClient::Fetch(const HttpRequest& request) {
  if (request.url.rfind(kScheme, 0) != 0) return next_.Fetch(request);
  return Serve(request, nullptr);
}

Result<HttpResponse> LocalFileClient::Stream(const HttpRequest& request, ByteSink& sink) {
  if (request.url.rfind(kScheme, 0) != 0) return next_.Stream(request, sink);
  return Serve(request, &sink);
}

Result<HttpResponse> LocalFileClient::Serve(const HttpRequest& request, ByteSink* sink) {
  const std::string what = request.method + " " + request.url;
  auto path = DecodePath(std::string_view(request.url).substr(kScheme.size()));
  if (!path || path->empty() || (*path)[0] != '/') return Status::InvalidArgument(what + ": not an absolute file URL");
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(*path, ec);
  if (ec) return Status::NotFound(what + ": " + ec.message()).WithHttpStatus(404);
  bool allowed = false;
  for (const std::string& root : roots_) allowed = allowed || IsWithin(canonical, root);
  if (!allowed) return Status::PermissionDenied(what + ": outside the local caches hubfs may read").WithHttpStatus(403);

  Fd file{::open(canonical.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    const int err = errno;
    if (err == ENOENT) return Status::NotFound(what + ": " + std::strerror(err)).WithHttpStatus(404);
    return Status::FromErrno(err, what);
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) return Status::FromErrno(errno, what);
  if (!S_ISREG(st.st_mode)) return Status::NotFound(what + ": not a regular file").WithHttpStatus(404);
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  HttpResponse response;
  response.effective_url = request.url;
  uint64_t first = 0, last = size == 0 ? 0 : size - 1;
  if (request.range) {
    if (request.range->first >= size || request.range->last < request.range->first) {
      return Status::OutOfRange(what + ": bytes " + std::to_string(request.range->first) + "- beyond " +
                                std::to_string(size)).WithHttpStatus(416);
    }
    first = request.range->first;
    last = std::min(request.range->last, size - 1);
    response.status = 206;
    response.headers.emplace_back("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) +
                                                       "/" + std::to_string(size));
  } else {
    response.status = 200;
  }
  const uint64_t length = size == 0 ? 0 : last - first + 1;
  response.headers.emplace_back("Content-Length", std::to_string(length));
  if (request.method == "HEAD") {
    if (sink) HUBFS_RETURN_IF_ERROR(sink->Begin(response));
    return response;
  }
  if (!sink && length > request.max_body_bytes) {
    return Status::ResourceExhausted(what + ": " + std::to_string(length) + " bytes, more than " +
                                     std::to_string(request.max_body_bytes));
  }
  if (sink) HUBFS_RETURN_IF_ERROR(sink->Begin(response));
  constexpr size_t kChunk = 1 << 20;
  std::unique_ptr<char[]> buf(new char[kChunk]);
  uint64_t offset = first;
  const uint64_t end = first + length;
  while (offset < end) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, end - offset));
    const ssize_t n = ::pread(file.fd, buf.get(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, what);
    if (n == 0) return Status::DataLoss(what + ": the file shrank while it was read");
    const std::string_view chunk(buf.get(), static_cast<size_t>(n));
    if (sink) {
      HUBFS_RETURN_IF_ERROR(sink->Write(chunk));
    } else {
      response.body.append(chunk);
    }
    offset += static_cast<uint64_t>(n);
  }
  return response;
}

}  // namespace hubfs::net
