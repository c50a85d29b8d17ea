#include "hubfs/fs/remote_sizes.h"

#include <ctime>
#include <sstream>

#include "hubfs/core/logging.h"

namespace hubfs::fs {
namespace {

// Remembered sizes share the metadata cache with documents, under a key no URL can have.
std::string CacheKey(const std::string& url) { return "size " + url; }

std::optional<uint64_t> ParseDecimal(const std::string& text) {
  if (text.empty() || text.size() > 19 || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoull(text);
}

std::string Encode(const RemoteSize& s) {
  return std::to_string(s.size) + "\n" + s.etag + "\n" + s.last_modified + "\n";
}

constexpr char kAbsentBody[] = "absent\n";

std::optional<RemoteSize> Decode(const cache::DocRecord& record) {
  std::istringstream in(record.body);
  std::string size, etag, modified;
  if (!std::getline(in, size) || !std::getline(in, etag) || !std::getline(in, modified)) return std::nullopt;
  auto n = ParseDecimal(size);
  if (!n) return std::nullopt;
  return RemoteSize{*n, etag, modified, record.fetched_at};
}

}  // namespace

RemoteSizes::RemoteSizes(net::HttpClient& http, cache::Cache& cache, int64_t ttl_seconds, Clock clock)
    : http_(http), cache_(cache), ttl_(ttl_seconds), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return static_cast<int64_t>(std::time(nullptr)); };
}

std::optional<RemoteSize> RemoteSizes::Remembered(cache::Cache& cache, const std::string& url) {
  auto stored = cache.GetDoc(CacheKey(url));
  if (!stored || !*stored) return std::nullopt;
  return Decode(**stored);
}

void RemoteSizes::Expire() {
  std::lock_guard lock(mu_);
  known_.clear();
  expired_before_ = clock_() + 1;
}

Result<RemoteSize> RemoteSizes::Get(const std::string& url) {
  const int64_t now = clock_();
  std::optional<RemoteSize> remembered;
  int64_t expired_before;
  {
    std::lock_guard lock(mu_);
    expired_before = expired_before_;
    auto it = known_.find(url);
    if (it != known_.end()) remembered = it->second;
  }
  if (!remembered) {
    auto stored = cache_.GetDoc(CacheKey(url));
    if (stored && *stored) {
      const cache::DocRecord& record = **stored;
      const bool fresh = record.fetched_at >= expired_before && now >= record.fetched_at &&
                         now - record.fetched_at < ttl_;
      if (record.body == kAbsentBody && fresh) {
        return Status::NotFound("HEAD " + url + ": HTTP 404 (remembered)").WithHttpStatus(404);
      }
      remembered = Decode(record);
    }
  }
  const bool fresh = remembered && remembered->checked_at >= expired_before &&
                     now >= remembered->checked_at && now - remembered->checked_at < ttl_;
  if (fresh) {
    std::lock_guard lock(mu_);
    known_[url] = *remembered;
    return *remembered;
  }
  auto asked = Ask(url);
  if (!asked && asked.error().IsNotFound()) {
    cache::DocRecord gone;  // remembered for the TTL, so `ls -l` does not ask at every stat
    gone.body = kAbsentBody;
    gone.fetched_at = now;
    if (Status s = cache_.PutDoc(CacheKey(url), gone); !s.ok()) HUBFS_LOG_WARN("{}: {}", url, s.ToString());
    std::lock_guard lock(mu_);
    known_.erase(url);
    return asked.error();
  }
  if (!asked) {
    if (remembered) {
      HUBFS_LOG_WARN("size of {}: {}; using the size seen at {}", url, asked.error().message(),
                     remembered->checked_at);
      return *remembered;
    }
    return asked.error();
  }
  asked->checked_at = now;
  cache::DocRecord record;
  record.body = Encode(*asked);
  record.fetched_at = now;
  if (Status s = cache_.PutDoc(CacheKey(url), record); !s.ok()) {
    HUBFS_LOG_WARN("could not remember the size of {}: {}", url, s.ToString());
  }
  std::lock_guard lock(mu_);
  known_[url] = *asked;
  return *asked;
}

Result<RemoteSize> RemoteSizes::Ask(const std::string& url) {
  net::HttpRequest head;
  head.method = "HEAD";
  head.url = url;
  auto response = http_.Fetch(head);
  bool ranged = false;
  if (!response && response.error().code() == Code::kInvalidArgument &&
      (response.error().http_status() == 405 || response.error().http_status() == 501)) {
    // HEAD refused: ask for one byte; Content-Range carries the total.
    net::HttpRequest probe;
    probe.url = url;
    probe.range = net::ByteRange{0, 0};
    probe.max_body_bytes = 1 << 16;
    response = http_.Fetch(probe);
    ranged = true;
  }
  if (!response) return response.error();
  RemoteSize out;
  out.etag = response->Header("ETag").value_or("");
  out.last_modified = response->Header("Last-Modified").value_or("");
  if (ranged && response->status == 206) {
    const std::string range = response->Header("Content-Range").value_or("");
    const auto slash = range.rfind('/');
    auto total = slash == std::string::npos ? std::nullopt : ParseDecimal(range.substr(slash + 1));
    if (!total) return Status::Unavailable("GET " + url + ": no usable Content-Range, so the size is unknown");
    out.size = *total;
    return out;
  }
  auto length = ParseDecimal(response->Header("Content-Length").value_or(""));
  if (!length) {
    return Status::Unavailable(std::string(ranged ? "GET " : "HEAD ") + url +
                               ": no Content-Length, so the size is unknown");
  }
  out.size = *length;
  return out;
}

}  // namespace hubfs::fs
