// CurlHttpClient: the libcurl implementation of HttpClient (see http_client.h for the error
// contract), and CurlGlobal, the process-wide libcurl initialisation.
//
// Transport behaviour:
//  - Connections are kept alive and reused: a pool of curl easy handles, each with its own
//    connection cache. The DNS cache and TLS sessions are shared between handles; connections
//    are not.
//  - Redirects are followed (http/https only, at most Options::max_redirects). Credentials never
//    leave their origin: an Authorization header set by the caller is dropped when a redirect
//    goes to another host, port or scheme (libcurl >= 7.83 semantics, CURLOPT_UNRESTRICTED_AUTH
//    off).
//  - Proxies are decided here, not by libcurl's own reading of the environment (which ignores
//    upper-case HTTP_PROXY): Options::proxy, by default ProxyFromEnvironment(). A request uses the
//    proxy of its URL's scheme for every hop, redirects included. Loopback hosts (localhost,
//    127.0.0.0/8, ::1) never go through a proxy.
//  - Bodies are requested and delivered as identity (no content decoding): callers hash raw bytes.
//  - Transient failures (5xx, 429, connect/DNS errors, resets, timeouts, truncated bodies) are
//    retried up to HttpRequest::max_attempts with exponential backoff and jitter; 429 and 503
//    honour Retry-After (seconds or HTTP date), capped by Options::retry_after_cap. Stream()
//    retries only while no body byte has reached the sink. 4xx other than 429 are never retried.
//  - A transfer that receives less than 1 byte/s for Options::stall_timeout fails with
//    kDeadlineExceeded (libcurl's low-speed check, which averages over a few seconds, so a stall
//    right after a burst is detected a little later than stall_timeout).
//  - Truncated bodies (connection closed before Content-Length bytes) fail with kDataLoss.
//    A body without Content-Length or chunked framing cannot be checked.
//  - Nothing is logged above debug level; errors are returned with "<METHOD> <url>: ..." context.
//
// Thread-safety: CurlHttpClient is safe to use from many threads at once. CurlGlobal must be
// created before any thread uses libcurl and destroyed after the last one has stopped.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "hubfs/net/http_client.h"

namespace hubfs::net {

// Initialises libcurl for the process (curl_global_init) and cleans it up on destruction.
// Create one in main() before threads start. Nesting is allowed (libcurl counts them), so tests
// may create their own.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;

  // False if curl_global_init failed; libcurl must not be used then.
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
};

// Where requests go when a proxy is configured.
struct ProxySettings {
  std::string http;      // proxy for http:// URLs, e.g. "http://proxy:3128"; "" = none
  std::string https;     // proxy for https:// URLs (CONNECT tunnel); "" = none
  std::string no_proxy;  // hosts, domains (".corp" or "corp") and CIDRs reached directly; "*" = all
};

// The proxy environment, read through `env` (getenv): http_proxy, else HTTP_PROXY; https_proxy, else
// HTTPS_PROXY; all_proxy / ALL_PROXY for a scheme with neither; no_proxy, else NO_PROXY (the
// lower-case name wins when both are set, as in libcurl). no_proxy always gets the loopback hosts
// added, so local servers (a site cache on this box, test fixtures) are never proxied.
ProxySettings ProxyFromEnvironment(const std::function<const char*(const char*)>& env);

class CurlHttpClient final : public HttpClient {
 public:
  struct Options {
    // Time allowed to establish a connection (TCP + TLS), per attempt.
    std::chrono::milliseconds connect_timeout{5000};
    // A transfer receiving < 1 byte/s for this long fails with kDeadlineExceeded. Whole seconds
    // (libcurl's granularity); at least 1 s.
    std::chrono::seconds stall_timeout{30};
    // Empty means "hubfs/<version>" when the build defines HUBFS_VERSION for net/, else "hubfs".
    std::string user_agent;
    long max_redirects = 10;  // NOLINT(runtime/int): libcurl's type
    // Retry delay before retry n (1-based) is min(backoff_cap, backoff_base * 2^(n-1)), jittered
    // down to at most half of that.
    std::chrono::milliseconds backoff_base{200};
    std::chrono::milliseconds backoff_cap{5000};
    // Upper bound for a server's Retry-After.
    std::chrono::milliseconds retry_after_cap{30000};
    // Idle easy handles (and so kept-alive connection caches) kept for reuse. Concurrency is
    // not limited by this: a request finding the pool empty creates a new handle.
    size_t pool_size = 16;
    // Unset: ProxyFromEnvironment() of the process environment, read once at construction.
    std::optional<ProxySettings> proxy;
  };

  CurlHttpClient();
  explicit CurlHttpClient(Options options);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Result<HttpResponse> Fetch(const HttpRequest& request) override;
  Result<HttpResponse> Stream(const HttpRequest& request, ByteSink& sink) override;

  const Options& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hubfs::net
