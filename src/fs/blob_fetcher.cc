#include "hubfs/fs/blob_fetcher.h"

#include <ctime>

#include "hubfs/core/logging.h"
#include "hubfs/core/sha256.h"

namespace hubfs::fs {
namespace {

constexpr std::string_view kLfsPointerStart = "version https://git-lfs.github.com/spec/";
// Git LFS pointer files are about 130 bytes; the spec caps them at 1024.
constexpr size_t kMaxLfsPointer = 1024;

// Hashes and stores the body as it arrives and enforces the published size.
class VerifyingSink final : public net::ByteSink {
 public:
  VerifyingSink(cache::BlobWriter& writer, const hubs::RemoteObject& object)
      : writer_(writer), object_(object) {}

  Status Begin(const net::HttpResponse& head) override {
    if (head.status != 200) {
      return Status::DataLoss("GET " + object_.url + ": expected HTTP 200, got " +
                              std::to_string(head.status));
    }
    return Status();
  }

  Status Write(std::string_view data) override {
    if (head_.size() < kMaxLfsPointer) head_.append(data.substr(0, kMaxLfsPointer - head_.size()));
    if (object_.size && writer_.written() + data.size() > *object_.size &&
        !LooksLikeLfsPointer()) {
      return Status::DataLoss("GET " + object_.url + ": body is longer than the published " +
                              std::to_string(*object_.size) + " bytes");
    }
    hash_.Update(data);
    return writer_.Append(data);
  }

  bool LooksLikeLfsPointer() const {
    return head_.compare(0, kLfsPointerStart.size(), kLfsPointerStart) == 0;
  }
  Digest Finish() { return hash_.Finish(); }

 private:
  cache::BlobWriter& writer_;
  const hubs::RemoteObject& object_;
  Sha256 hash_;
  std::string head_;
};

}  // namespace

BlobFetcher::BlobFetcher(net::HttpClient& http, cache::Cache& cache)
    : BlobFetcher(http, cache, Options{}) {}

BlobFetcher::BlobFetcher(net::HttpClient& http, cache::Cache& cache, Options options)
    : http_(http), cache_(cache), options_(options) {}

std::optional<Status> BlobFetcher::RecentFailure(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = recent_failures_.find(key);
  if (it == recent_failures_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() - it->second.second < options_.failure_memory) {
    return it->second.first;
  }
  recent_failures_.erase(it);
  return std::nullopt;
}

std::string BlobFetcher::KeyFor(const hubs::RemoteObject& object) {
  return object.sha256 ? cache::BlobKeyForDigest(*object.sha256) : cache::BlobKeyForUrl(object.url);
}

Result<std::shared_ptr<cache::BlobFile>> BlobFetcher::Get(const hubs::RemoteObject& object) {
  const std::string key = KeyFor(object);
  auto cached = cache_.OpenBlob(key);
  if (cached) {
    counters_.cache_hits++;
    return cached;
  }
  if (!cached.error().IsNotFound()) return cached.error();
  if (auto failure = RecentFailure(key)) return *failure;

  std::promise<Result<std::shared_ptr<cache::BlobFile>>> promise;
  Shared shared;
  bool leader = false;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    if (it == in_flight_.end()) {
      shared = promise.get_future().share();
      in_flight_.emplace(key, shared);
      leader = true;
    } else {
      shared = it->second;
    }
  }
  if (!leader) return shared.get();

  Result<std::shared_ptr<cache::BlobFile>> result = Status::Internal("download did not run");
  try {
    result = Download(object, key);
  } catch (const std::exception& e) {
    result = Status::Internal(std::string("download failed: ") + e.what());
  }
  promise.set_value(result);
  std::lock_guard lock(mu_);
  in_flight_.erase(key);
  if (!result.ok() && options_.failure_memory.count() > 0) {
    // Bounded: a map entry per distinct failing file, dropped when it expires or succeeds.
    if (recent_failures_.size() > 4096) recent_failures_.clear();
    recent_failures_[key] = {result.error(), std::chrono::steady_clock::now()};
  }
  return result;
}

Result<std::shared_ptr<cache::BlobFile>> BlobFetcher::Download(const hubs::RemoteObject& object,
                                                               const std::string& key) {
  // Another process sharing the cache may have finished it meanwhile.
  if (auto again = cache_.OpenBlob(key)) return again;

  HUBFS_ASSIGN_OR_RETURN(auto writer, cache_.NewBlob());
  VerifyingSink sink(*writer, object);
  net::HttpRequest request;
  request.url = object.url;
  counters_.downloads++;
  auto response = http_.Stream(request, sink);
  const uint64_t got = writer->written();
  counters_.downloaded_bytes += got;
  if (!response) {
    if (response.error().IsDataLoss()) counters_.verify_failures++;
    // The hub lists this file, so "not found" (or a request the server calls bad) is the hub's
    // inconsistency, not a missing name or a caller's mistake: an I/O error, never ENOENT or
    // EINVAL on a file `ls` just showed. Permission errors keep their meaning (EACCES).
    const Code code = response.error().code();
    if (code == Code::kNotFound || code == Code::kInvalidArgument) {
      return Status::Unavailable(response.error().message() + " (the hub lists this file)")
          .WithHttpStatus(response.error().http_status());
    }
    return response.error();
  }

  if (sink.LooksLikeLfsPointer() && got < kMaxLfsPointer && (!object.size || *object.size != got)) {
    counters_.verify_failures++;
    return Status::DataLoss("GET " + object.url +
                            ": the server returned a Git LFS pointer, not the file "
                            "(media_base must name the LFS media host, not the raw host)");
  }
  if (object.size && got != *object.size) {
    counters_.verify_failures++;
    return Status::DataLoss("GET " + object.url + ": got " + std::to_string(got) +
                            " bytes, the hub publishes " + std::to_string(*object.size));
  }
  const Digest actual = sink.Finish();
  if (object.sha256 && actual != *object.sha256) {
    counters_.verify_failures++;
    return Status::DataLoss("GET " + object.url + ": sha256 mismatch: expected " +
                            ToHex(*object.sha256) + ", got " + ToHex(actual) + "; nothing cached");
  }

  cache::BlobRecord record;
  record.size = got;
  record.sha256 = actual;
  record.published = object.sha256.has_value();
  record.source_url = object.url;
  record.created = record.last_access = static_cast<int64_t>(std::time(nullptr));
  HUBFS_RETURN_IF_ERROR(cache_.CommitBlob(std::move(writer), key, record));
  HUBFS_LOG_INFO("cached {} ({} bytes, sha256 {} {})", object.url, got, ToHex(actual),
                 record.published ? "verified" : "pinned on first use");
  return cache_.OpenBlob(key);
}

}  // namespace hubfs::fs
