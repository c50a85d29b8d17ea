#include "testing/fake_http_client.h"

#include <algorithm>
#include <string>
#include <utility>

namespace hubfs::test {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    return lower(x) == lower(y);
  });
}

std::optional<std::string> FindHeader(const net::Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

bool IsConditional(const net::HttpRequest& request) {
  return FindHeader(request.headers, "If-None-Match") ||
         FindHeader(request.headers, "If-Modified-Since");
}

}  // namespace

std::optional<std::string> RecordedRequest::Header(std::string_view name) const {
  return FindHeader(headers, name);
}

FakeHttpClient::~FakeHttpClient() {
  std::unique_lock lock(mu_);
  shutting_down_ = true;
  cv_.notify_all();
  cv_.wait(lock, [this] { return waiting_ == 0; });
}

void FakeHttpClient::Serve(const std::string& url, FakeResponse response) {
  ServeSequence(url, {std::move(response)});
}

void FakeHttpClient::ServeSequence(const std::string& url, std::vector<FakeResponse> responses) {
  std::lock_guard lock(mu_);
  scripts_[url] = Script{std::move(responses), 0};
}

void FakeHttpClient::FailNth(const std::string& url, int n, Status error) {
  std::lock_guard lock(mu_);
  fail_[{url, n}] = std::move(error);
}

void FakeHttpClient::Block(const std::string& url) {
  std::lock_guard lock(mu_);
  blocked_.insert(url);
}

void FakeHttpClient::Unblock(const std::string& url) {
  std::lock_guard lock(mu_);
  blocked_.erase(url);
  cv_.notify_all();
}

bool FakeHttpClient::WaitForRequests(const std::string& url, int count,
                                     std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    auto it = counts_.find(url);
    return it != counts_.end() && it->second >= count;
  });
}

int FakeHttpClient::RequestCount(const std::string& url) const {
  std::lock_guard lock(mu_);
  auto it = counts_.find(url);
  return it == counts_.end() ? 0 : it->second;
}

int FakeHttpClient::TotalRequests() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(log_.size());
}

std::vector<RecordedRequest> FakeHttpClient::Requests(const std::string& url) const {
  std::lock_guard lock(mu_);
  std::vector<RecordedRequest> out;
  for (const auto& r : log_) {
    if (r.url == url) out.push_back(r);
  }
  return out;
}

std::vector<RecordedRequest> FakeHttpClient::AllRequests() const {
  std::lock_guard lock(mu_);
  return log_;
}

Result<FakeResponse> FakeHttpClient::Take(const net::HttpRequest& request) {
  std::unique_lock lock(mu_);
  log_.push_back({request.method, request.url, request.headers, request.range});
  const int nth = ++counts_[request.url];
  cv_.notify_all();  // WaitForRequests
  if (blocked_.count(request.url) != 0) {
    ++waiting_;
    cv_.wait(lock, [&] { return shutting_down_ || blocked_.count(request.url) == 0; });
    --waiting_;
    cv_.notify_all();  // the destructor
    if (shutting_down_)
      return Status::Cancelled(request.method + " " + request.url + ": fake shut down");
  }
  if (auto it = fail_.find({request.url, nth}); it != fail_.end()) return it->second;
  auto it = scripts_.find(request.url);
  if (it == scripts_.end() || it->second.responses.empty()) return FakeResponse{.status = 404};
  Script& script = it->second;
  const FakeResponse& response =
      script.responses[std::min(script.next, script.responses.size() - 1)];
  if (script.next < script.responses.size()) ++script.next;
  return response;
}

Result<net::HttpResponse> FakeHttpClient::Fetch(const net::HttpRequest& request) {
  return Run(request, nullptr);
}

Result<net::HttpResponse> FakeHttpClient::Stream(const net::HttpRequest& request,
                                                 net::ByteSink& sink) {
  return Run(request, &sink);
}

Result<net::HttpResponse> FakeHttpClient::Run(const net::HttpRequest& request,
                                              net::ByteSink* sink) {
  const std::string what = request.method + " " + request.url;
  HUBFS_ASSIGN_OR_RETURN(FakeResponse scripted, Take(request));

  net::HttpResponse response;
  response.status = scripted.status;
  response.headers = scripted.headers;
  response.effective_url = request.url;
  std::string body = std::move(scripted.body);

  if (scripted.status == 200 && scripted.serve_ranges && request.range) {
    const net::ByteRange range = *request.range;
    if (range.first > range.last || range.first >= body.size()) {
      return net::StatusFromHttp(416, request.method, request.url);
    }
    const uint64_t last = std::min<uint64_t>(range.last, body.size() - 1);
    response.status = 206;
    response.headers.emplace_back("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                                       std::to_string(last) + "/" +
                                                       std::to_string(body.size()));
    body = body.substr(range.first, last - range.first + 1);
  }
  if (response.status == 304) {
    if (!IsConditional(request)) {
      return Status::Unavailable(what + ": HTTP 304 to an unconditional request")
          .WithHttpStatus(304);
    }
    return response;  // no body, no Begin(), like the real client
  }
  HUBFS_RETURN_IF_ERROR(net::StatusFromHttp(response.status, request.method, request.url));

  if (!FindHeader(response.headers, "Content-Length")) {
    response.headers.emplace_back("Content-Length", std::to_string(body.size()));
  }
  if (request.method == "HEAD") body.clear();

  Status end;  // how the body ends
  if (scripted.truncate_after && *scripted.truncate_after < body.size()) {
    body.resize(*scripted.truncate_after);
    end = scripted.truncate_error;
  }

  if (sink == nullptr) {
    if (body.size() > request.max_body_bytes) {
      return Status::ResourceExhausted(what + ": body exceeds " +
                                       std::to_string(request.max_body_bytes) + " bytes");
    }
    HUBFS_RETURN_IF_ERROR(end);
    response.body = std::move(body);
    return response;
  }

  HUBFS_RETURN_IF_ERROR(sink->Begin(response));
  const size_t chunk =
      scripted.chunk_size == 0 ? std::max<size_t>(body.size(), 1) : scripted.chunk_size;
  for (size_t pos = 0; pos < body.size(); pos += chunk) {
    HUBFS_RETURN_IF_ERROR(sink->Write(std::string_view(body).substr(pos, chunk)));
  }
  HUBFS_RETURN_IF_ERROR(end);
  return response;
}

}  // namespace hubfs::test
