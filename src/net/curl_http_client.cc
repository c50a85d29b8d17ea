// CurlHttpClient: one curl_easy_perform per attempt on a pooled easy handle, a retry loop
// around it, and the mapping of libcurl outcomes onto the error contract of http_client.h.
#include "hubfs/net/curl_http_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <ctime>
#include <initializer_list>
#include <exception>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "hubfs/core/logging.h"
#include "net/curl_handles.h"

namespace hubfs::net {
namespace {

// curl's upper bound for CURLOPT_BUFFERSIZE in the versions Debian 12 ships (512 KiB).
constexpr long kReceiveBufferBytes = 512L * 1024;  // NOLINT(runtime/int): libcurl's type


#ifdef HUBFS_VERSION
constexpr char kDefaultUserAgent[] = "hubfs/" HUBFS_VERSION;
#else
constexpr char kDefaultUserAgent[] = "hubfs";
#endif

// Bodies of error responses are read and thrown away so the connection stays reusable; beyond
// this much the transfer is cut instead (the HTTP status is still reported).
constexpr uint64_t kMaxDrainedBytes = 1 << 20;

#ifdef CURL_WRITEFUNC_ERROR
constexpr size_t kAbortTransfer = CURL_WRITEFUNC_ERROR;
#else
constexpr size_t kAbortTransfer = 0;
#endif

using std::chrono::milliseconds;

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

std::string_view TrimEol(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool HasHeader(const Headers& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

bool IsConditional(const HttpRequest& request) {
  return HasHeader(request.headers, "If-None-Match") ||
         HasHeader(request.headers, "If-Modified-Since");
}

// The URL as it may appear in messages: without "user:password@".
std::string RedactUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const size_t authority = scheme_end + 3;
  const size_t authority_end = std::min(url.find_first_of("/?#", authority), url.size());
  const size_t at = url.substr(authority, authority_end - authority).rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return fmt::format("{}{}", url.substr(0, authority), url.substr(authority + at + 1));
}

Status Validate(const HttpRequest& request, const std::string& what) {
  if (request.method != "GET" && request.method != "HEAD") {
    return Status::InvalidArgument(what + ": only GET and HEAD are supported");
  }
  if (request.url.empty()) return Status::InvalidArgument(what + ": empty URL");
  if (request.range && request.range->first > request.range->last) {
    return Status::InvalidArgument(fmt::format("{}: invalid byte range {}-{}", what,
                                               request.range->first, request.range->last));
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || name.find_first_of(":\r\n \t") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument(fmt::format("{}: invalid request header '{}'", what, name));
    }
  }
  return Status();
}

// Retry-After: delay-seconds or an HTTP date. Zero when absent, malformed or in the past.
milliseconds ParseRetryAfter(const std::optional<std::string>& header) {
  if (!header) return milliseconds(0);
  const std::string_view value = Trim(*header);
  uint64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    return milliseconds(std::min<uint64_t>(seconds, 86400) * 1000);
  }
  const time_t date = curl_getdate(std::string(value).c_str(), nullptr);
  const time_t now = std::time(nullptr);
  if (date == -1 || date <= now) return milliseconds(0);
  return milliseconds(std::min<int64_t>(date - now, 86400) * 1000);
}

std::string EffectiveUrl(CURL* easy) {
  char* url = nullptr;
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
  return url != nullptr ? std::string(url) : std::string();
}

// State shared with the libcurl callbacks during one attempt.
struct Transfer {
  CURL* easy = nullptr;
  const HttpRequest* request = nullptr;
  const std::string* what = nullptr;  // "GET <url>" for messages
  ByteSink* sink = nullptr;           // null: Fetch, the body goes to response->body
  HttpResponse* response = nullptr;
  Status abort;            // why a callback stopped the transfer
  bool begun = false;      // the 2xx body has started (Start() ran)
  bool delivered = false;  // the sink has seen a Write()
  bool drain_limit_hit = false;
  uint64_t drained = 0;

  void AddHeaderLine(std::string_view line) {
    Headers& headers = response->headers;
    if (line.substr(0, 5) == "HTTP/") {  // a new response (redirect, 100-continue, proxy)
      headers.clear();
      return;
    }
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {  // obsolete folding
      if (!headers.empty() && !Trim(line).empty()) {
        headers.back().second.append(" ").append(Trim(line));
      }
      return;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;  // the blank line ending the block
    headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                         std::string(Trim(line.substr(colon + 1))));
  }

  // Runs once per attempt before the first byte of a 2xx body (or at the end for an empty one).
  bool Start(long status) {  // NOLINT(runtime/int)
    response->status = static_cast<int>(status);
    if (sink != nullptr) {
      HttpResponse head;
      head.status = response->status;
      head.headers = response->headers;
      head.effective_url = EffectiveUrl(easy);
      abort = sink->Begin(head);
      return abort.ok();
    }
    // Fetch: refuse an announced oversized body before reading any of it.
    if (const auto length = response->Header("Content-Length")) {
      uint64_t n = 0;
      const std::string_view v = *length;
      const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec == std::errc() && end == v.data() + v.size()) {
        if (n > request->max_body_bytes) {
          abort = TooLarge();
          return false;
        }
        response->body.reserve(n);
      }
    }
    return true;
  }

  bool Body(std::string_view data) {
    long status = 0;  // NOLINT(runtime/int)
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
      drained += data.size();
      drain_limit_hit = drained > kMaxDrainedBytes;
      return !drain_limit_hit;
    }
    if (!begun) {
      begun = true;
      if (!Start(status)) return false;
    }
    if (sink != nullptr) {
      delivered = true;
      abort = sink->Write(data);
      return abort.ok();
    }
    if (response->body.size() + data.size() > request->max_body_bytes) {
      abort = TooLarge();
      return false;
    }
    response->body.append(data);
    return true;
  }

  Status TooLarge() const {
    return Status::ResourceExhausted(
        fmt::format("{}: body exceeds {} bytes", *what, request->max_body_bytes));
  }
};

// libcurl callbacks: nothing may throw through C code.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t length = size * count;
  try {
    t->AddHeaderLine(TrimEol(std::string_view(data, length)));
    return length;
  } catch (const std::exception& e) {
    t->abort = Status::ResourceExhausted(fmt::format("{}: headers: {}", *t->what, e.what()));
  } catch (...) {
    t->abort = Status::Internal(*t->what + ": unknown exception reading headers");
  }
  return kAbortTransfer;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t length = size * count;
  try {
    return t->Body(std::string_view(data, length)) ? length : kAbortTransfer;
  } catch (const std::exception& e) {
    t->abort =
        Status::Internal(fmt::format("{}: exception receiving body: {}", *t->what, e.what()));
  } catch (...) {
    t->abort = Status::Internal(*t->what + ": unknown exception receiving body");
  }
  return kAbortTransfer;
}

using ShareLocks = std::array<std::mutex, CURL_LOCK_DATA_LAST>;

void LockShared(CURL*, curl_lock_data data, curl_lock_access, void* user) {
  auto* locks = static_cast<ShareLocks*>(user);
  if (static_cast<size_t>(data) < locks->size()) (*locks)[data].lock();
}

void UnlockShared(CURL*, curl_lock_data data, void* user) {
  auto* locks = static_cast<ShareLocks*>(user);
  if (static_cast<size_t>(data) < locks->size()) (*locks)[data].unlock();
}

// The outcome of one attempt.
struct Attempt {
  Status status;  // OK: the response is complete
  bool retryable = false;
  milliseconds retry_after{0};  // server-requested delay, 0 if none
};

Attempt FromCurl(CURLcode rc, CURL* easy, const char* errbuf, const std::string& what,
                 std::chrono::seconds stall_timeout) {
  std::string_view detail = errbuf[0] != '\0' ? std::string_view(errbuf) : curl_easy_strerror(rc);
  detail = Trim(detail);
  long os_errno = 0;  // NOLINT(runtime/int)
  curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
  Code code = Code::kUnavailable;
  bool retryable = true;
  std::string summary;
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      summary = "DNS lookup failed";
      break;
    case CURLE_COULDNT_CONNECT:
      summary = os_errno == ECONNREFUSED ? "connection refused" : "cannot connect";
      break;
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connect_us = 0;
      curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect_us);
      code = Code::kDeadlineExceeded;
      summary = connect_us == 0
                    ? std::string("connect timed out")
                    : fmt::format("stalled (under 1 byte/s for {} s)", stall_timeout.count());
      break;
    }
    case CURLE_PARTIAL_FILE:
      code = Code::kDataLoss;
      summary = "truncated body (connection closed early)";
      break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      summary = "connection failed";
      break;
    case CURLE_TOO_MANY_REDIRECTS:
      summary = "too many redirects";
      retryable = false;
      break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      code = Code::kInvalidArgument;
      summary = "bad URL";
      retryable = false;
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
      summary = "TLS verification failed";
      retryable = false;
      break;
    case CURLE_OUT_OF_MEMORY:
      code = Code::kResourceExhausted;
      summary = "out of memory";
      retryable = false;
      break;
    case CURLE_BAD_CONTENT_ENCODING:
      code = Code::kDataLoss;
      summary = "bad content encoding";
      retryable = false;
      break;
    default:
      summary = "transfer failed";
      retryable = false;
      break;
  }
  return {Status(code, fmt::format("{}: {} (curl: {})", what, summary, detail)), retryable};
}

// The loopback hosts no proxy is used for. CIDR entries need libcurl 7.86.
#if LIBCURL_VERSION_NUM >= 0x075600
constexpr char kLoopbackHosts[] = "localhost,127.0.0.0/8,::1";
#else
constexpr char kLoopbackHosts[] = "localhost,127.0.0.1,::1";
#endif

}  // namespace

ProxySettings ProxyFromEnvironment(const std::function<const char*(const char*)>& env) {
  auto first = [&](std::initializer_list<const char*> names) -> std::string {
    for (const char* name : names) {
      const char* value = env(name);
      if (value != nullptr && *value != '\0') return value;
    }
    return "";
  };
  ProxySettings p;
  const std::string all = first({"all_proxy", "ALL_PROXY"});
  p.http = first({"http_proxy", "HTTP_PROXY"});
  if (p.http.empty()) p.http = all;
  p.https = first({"https_proxy", "HTTPS_PROXY"});
  if (p.https.empty()) p.https = all;
  p.no_proxy = first({"no_proxy", "NO_PROXY"});
  p.no_proxy += (p.no_proxy.empty() ? "" : ",") + std::string(kLoopbackHosts);
  return p;
}

CurlGlobal::CurlGlobal() : ok_(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {}

CurlGlobal::~CurlGlobal() {
  if (ok_) curl_global_cleanup();
}

struct CurlHttpClient::Impl {
  explicit Impl(Options opts);

  Result<HttpResponse> Run(const HttpRequest& request, ByteSink* sink);

  const Options options;
  const std::string user_agent;
  const ProxySettings proxy;
  // Declaration order matters: handles are destroyed before the share, the share before its
  // locks.
  ShareLocks share_locks;
  CurlSharePtr share;
  std::mutex pool_mu;
  std::vector<CurlEasyPtr> idle;  // guarded by pool_mu; the most recently used at the back

 private:
  CurlEasyPtr Acquire();
  void Release(CurlEasyPtr easy);
  Attempt Perform(CURL* easy, const HttpRequest& request, const std::string& url,
                  const std::string& what, ByteSink* sink, HttpResponse* response, bool* delivered);
  CURLcode Configure(CURL* easy, const HttpRequest& request, Transfer* transfer,
                     curl_slist* headers, const std::string& range, char* errbuf);
  milliseconds RetryDelay(int retry, const Attempt& attempt) const;
};

CurlHttpClient::Impl::Impl(Options opts)
    : options(std::move(opts)),
      user_agent(options.user_agent.empty() ? kDefaultUserAgent : options.user_agent),
      proxy(options.proxy ? *options.proxy : ProxyFromEnvironment([](const char* name) { return std::getenv(name); })),
      share(curl_share_init()) {
  // Without a share (out of memory) every handle keeps its own caches: slower, still correct.
  if (!share) return;
  curl_share_setopt(share.get(), CURLSHOPT_LOCKFUNC, &LockShared);
  curl_share_setopt(share.get(), CURLSHOPT_UNLOCKFUNC, &UnlockShared);
  curl_share_setopt(share.get(), CURLSHOPT_USERDATA, &share_locks);
  curl_share_setopt(share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

CurlEasyPtr CurlHttpClient::Impl::Acquire() {
  {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (!idle.empty()) {
      CurlEasyPtr easy = std::move(idle.back());
      idle.pop_back();
      return easy;
    }
  }
  return CurlEasyPtr(curl_easy_init());
}

void CurlHttpClient::Impl::Release(CurlEasyPtr easy) {
  // Drops every option (and so every pointer into the finished request) but keeps the live
  // connections, which is what the pool is for.
  curl_easy_reset(easy.get());
  {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (idle.size() < options.pool_size) {
      idle.push_back(std::move(easy));
      return;
    }
  }
  // Pool full: `easy` is cleaned up here, outside the lock (it may close connections).
}

CURLcode CurlHttpClient::Impl::Configure(CURL* easy, const HttpRequest& request, Transfer* transfer,
                                         curl_slist* headers, const std::string& range,
                                         char* errbuf) {
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
  };
  const curl_write_callback header_callback = &OnHeader;
  const curl_write_callback body_callback = &OnBody;
  set(CURLOPT_ERRORBUFFER, errbuf);
  // Re-attached on every request: curl_easy_reset() leaves the share's TLS session limits stale.
  if (share) set(CURLOPT_SHARE, share.get());
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));        // NOLINT
  set(CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));  // NOLINT
#endif
  // Always set, so libcurl never reads the environment itself ("" = no proxy).
  const bool https = request.url.size() >= 8 && EqualsIgnoreCase(std::string_view(request.url).substr(0, 8), "https://");
  set(CURLOPT_PROXY, (https ? proxy.https : proxy.http).c_str());
  set(CURLOPT_NOPROXY, proxy.no_proxy.c_str());
  set(CURLOPT_FOLLOWLOCATION, 1L);
  set(CURLOPT_MAXREDIRS, options.max_redirects);
  set(CURLOPT_UNRESTRICTED_AUTH, 0L);
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));  // NOLINT
  set(CURLOPT_LOW_SPEED_LIMIT, 1L);
  set(CURLOPT_LOW_SPEED_TIME,
      static_cast<long>(std::max<int64_t>(1, options.stall_timeout.count())));  // NOLINT
  set(CURLOPT_USERAGENT, user_agent.c_str());
  set(CURLOPT_HTTP_CONTENT_DECODING, 0L);
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  // Large bodies reach the sink in pieces of this size. curl's default (16 KiB) means 128 sink
  // writes per 2 MiB block, and sinks write to files: with several transfers appending to one
  // file, the filesystem's inode lock turned that into the biggest cost of a cold read.
  set(CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
  set(CURLOPT_HTTPHEADER, headers);
  if (request.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else {
    set(CURLOPT_HTTPGET, 1L);
  }
  if (!range.empty()) set(CURLOPT_RANGE, range.c_str());
  set(CURLOPT_HEADERFUNCTION, header_callback);
  set(CURLOPT_HEADERDATA, transfer);
  set(CURLOPT_WRITEFUNCTION, body_callback);
  set(CURLOPT_WRITEDATA, transfer);
  return rc;
}

Attempt CurlHttpClient::Impl::Perform(CURL* easy, const HttpRequest& request,
                                      const std::string& url, const std::string& what,
                                      ByteSink* sink, HttpResponse* response, bool* delivered) {
  Transfer t;
  t.easy = easy;
  t.request = &request;
  t.what = &what;
  t.sink = sink;
  t.response = response;

  CurlSlistPtr headers;
  bool ok = true;
  for (const auto& [name, value] : request.headers) {
    // "Name;" is libcurl's spelling of a header with an empty value.
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    ok = ok && CurlSlistAppend(headers, line.c_str());
  }
  if (!HasHeader(request.headers, "Accept-Encoding")) {
    ok = ok && CurlSlistAppend(headers, "Accept-Encoding: identity");
  }
  if (!ok) return {Status::ResourceExhausted(what + ": out of memory building headers")};
  const std::string range =
      request.range ? fmt::format("{}-{}", request.range->first, request.range->last) : "";

  char errbuf[CURL_ERROR_SIZE];
  errbuf[0] = '\0';
  CURLcode rc = Configure(easy, request, &t, headers.get(), range, errbuf);
  if (rc != CURLE_OK) {
    return {Status::Internal(
        fmt::format("{}: cannot configure libcurl: {}", what, curl_easy_strerror(rc)))};
  }
  rc = curl_easy_perform(easy);
  *delivered = t.delivered;

  // A callback's own error (sink failure, body too large) is the answer, as-is.
  if (!t.abort.ok()) return {t.abort};
  long status = 0;  // NOLINT(runtime/int)
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  // An HTTP error status is more telling than a transfer error while draining its body.
  const bool http_error = status >= 400 || t.drain_limit_hit;
  if (rc != CURLE_OK && !http_error) {
    return FromCurl(rc, easy, errbuf, what, options.stall_timeout);
  }
  response->status = static_cast<int>(status);
  response->effective_url = EffectiveUrl(easy);
  if (status >= 200 && status <= 299) {
    if (sink != nullptr && !t.begun) {  // empty body, or HEAD: Begin() still runs once
      t.begun = true;
      if (!t.Start(status)) return {t.abort};
    }
    return {};
  }
  const bool conditional = IsConditional(request);
  if (status == 304 && conditional) return {};
  Attempt attempt;
  if (status == 304) {
    attempt.status =
        Status::Unavailable(what + ": HTTP 304 to an unconditional request").WithHttpStatus(304);
  } else {
    attempt.status = StatusFromHttp(static_cast<int>(status), request.method, url);
  }
  attempt.retryable = (status >= 500 && status <= 599) || status == 429;
  if (status == 429 || status == 503) {
    attempt.retry_after = ParseRetryAfter(response->Header("Retry-After"));
  }
  return attempt;
}

milliseconds CurlHttpClient::Impl::RetryDelay(int retry, const Attempt& attempt) const {
  if (attempt.retry_after.count() > 0)
    return std::min(attempt.retry_after, options.retry_after_cap);
  int64_t delay = std::max<int64_t>(0, options.backoff_base.count());
  const int64_t cap = std::max<int64_t>(0, options.backoff_cap.count());
  for (int i = 1; i < retry && delay < cap; ++i) delay *= 2;
  delay = std::min(delay, cap);
  // Jitter spreads retries of many clients hit by the same outage.
  thread_local std::minstd_rand rng(std::random_device{}());
  std::uniform_int_distribution<int64_t> jitter(delay / 2, delay);
  return milliseconds(jitter(rng));
}

Result<HttpResponse> CurlHttpClient::Impl::Run(const HttpRequest& request, ByteSink* sink) {
  const std::string url = RedactUrl(request.url);
  const std::string what = request.method + " " + url;
  HUBFS_RETURN_IF_ERROR(Validate(request, what));

  CurlEasyPtr easy = Acquire();
  if (!easy) return Status::ResourceExhausted(what + ": cannot create a libcurl handle");
  const int max_attempts = std::max(1, request.max_attempts);
  for (int attempt = 1;; ++attempt) {
    HttpResponse response;
    bool delivered = false;
    Attempt result = Perform(easy.get(), request, url, what, sink, &response, &delivered);
    if (result.status.ok()) {
      Release(std::move(easy));
      return response;
    }
    if (!result.retryable || delivered || attempt >= max_attempts) {
      Release(std::move(easy));
      if (!result.retryable || attempt == 1) return result.status;
      const Status& s = result.status;
      return Status(s.code(), fmt::format("{} (after {} attempts)", s.message(), attempt))
          .WithHttpStatus(s.http_status());
    }
    const milliseconds delay = RetryDelay(attempt, result);
    HUBFS_LOG_DEBUG("{} (attempt {} of {}); retrying in {} ms", result.status.ToString(), attempt,
                    max_attempts, delay.count());
    std::this_thread::sleep_for(delay);
  }
}

CurlHttpClient::CurlHttpClient() : CurlHttpClient(Options()) {}

CurlHttpClient::CurlHttpClient(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

CurlHttpClient::~CurlHttpClient() = default;

Result<HttpResponse> CurlHttpClient::Fetch(const HttpRequest& request) {
  return impl_->Run(request, nullptr);
}

Result<HttpResponse> CurlHttpClient::Stream(const HttpRequest& request, ByteSink& sink) {
  return impl_->Run(request, &sink);
}

const CurlHttpClient::Options& CurlHttpClient::options() const { return impl_->options; }

}  // namespace hubfs::net
