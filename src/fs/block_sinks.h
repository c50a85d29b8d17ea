// Sinks for one block's ranged GET: straight into the cache file, or into memory. Both check
// that the server answered the range that was asked for. Private to src/fs/.
#pragma once

#include <atomic>
#include <string>

#include "hubfs/cache/cache.h"
#include "hubfs/net/http_client.h"

namespace hubfs::fs {

// Checks a response to "Range: bytes=first-last" of a `total`-byte file: 206 with the same
// Content-Range, or 200 when the range is the whole file.
Status CheckRangeResponse(const net::HttpResponse& head, uint64_t first, uint64_t last,
                          uint64_t total, const std::string& url);

class CacheBlockSink final : public net::ByteSink {
 public:
  // `progress` (optional) is bumped for every piece of body that arrives.
  CacheBlockSink(cache::Blob::Writer& writer, uint64_t first, uint64_t last, uint64_t total,
                 std::string url, std::atomic<uint64_t>* progress = nullptr)
      : writer_(writer), first_(first), last_(last), total_(total), url_(std::move(url)),
        progress_(progress) {}
  Status Begin(const net::HttpResponse& head) override {
    range_refused_ = head.status == 200;
    return CheckRangeResponse(head, first_, last_, total_, url_);
  }
  Status Write(std::string_view data) override {
    if (progress_) progress_->fetch_add(1, std::memory_order_relaxed);
    return writer_.Append(data);
  }
  // The server answered the ranged GET with the whole file (200): it does not do ranges.
  bool range_refused() const { return range_refused_; }

 private:
  bool range_refused_ = false;
  cache::Blob::Writer& writer_;
  uint64_t first_, last_, total_;
  std::string url_;
  std::atomic<uint64_t>* progress_;
};

class MemoryBlockSink final : public net::ByteSink {
 public:
  MemoryBlockSink(std::string& out, uint64_t first, uint64_t last, uint64_t total, std::string url,
                  std::atomic<uint64_t>* progress = nullptr)
      : out_(out), first_(first), last_(last), total_(total), url_(std::move(url)), progress_(progress) {}
  Status Begin(const net::HttpResponse& head) override {
    out_.clear();
    return CheckRangeResponse(head, first_, last_, total_, url_);
  }
  Status Write(std::string_view data) override {
    if (progress_) progress_->fetch_add(1, std::memory_order_relaxed);
    if (out_.size() + data.size() > last_ - first_ + 1) {
      return Status::DataLoss("GET " + url_ + ": more bytes than the range asked for");
    }
    out_.append(data);
    return Status();
  }

 private:
  std::string& out_;
  uint64_t first_, last_, total_;
  std::string url_;
  std::atomic<uint64_t>* progress_;
};

}  // namespace hubfs::fs
