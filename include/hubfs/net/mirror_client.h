// MirrorClient: sends a hub's requests to a site cache (a caching reverse proxy shared by many
// boxes, such as the nginx of packaging/site-cache/) instead of the hub's own servers.
//
// A route names URL prefixes (a hub's base URLs) and the mirror that serves them. A request whose
// URL starts with one of the prefixes goes to
//
//   <mirror>/<host>[:<port>]<path>[?<query>]      e.g. https://raw.githubusercontent.com/a/b
//                                                  ->  http://site-cache:8080/raw.githubusercontent.com/a/b
//
// (host lower-cased, the default port of the scheme and any user:password@ dropped; the origin's
// scheme is not part of the path: the mirror decides how it reaches each host it allows). Every
// other request passes through unchanged. The rewrite happens below everything that names
// things by URL (the block cache's `url:` keys, the metadata cache, learned sizes), so turning a
// mirror on or off keeps the local cache.
//
// Failures of the mirror:
//  - With `fallback`, a request the mirror could not answer (kUnavailable: connection refused,
//    DNS, reset, HTTP 5xx; kDeadlineExceeded: connect timeout, stall) before any body byte reached
//    the sink is sent to the origin instead. The mirror then gets one attempt per request (its
//    retries would outlast a reader's read_timeout), and after a failure the route's requests go
//    straight to the origin for `Options::retry_mirror_after` before the mirror is tried again.
//  - Any other answer of the mirror is final, fallback or not: a 404/403/401/429 is what the
//    origin said (the mirror forwards the origin's status), and a mirror that answers but refuses
//    a host is misconfigured, which an origin retry would hide.
//  - A failure after body bytes were delivered is returned as-is (a sink cannot be rewound).
//  - Each route logs once when its mirror stops answering (a warning naming the mirror and what
//    happens next) and once when it answers again.
//
// Credentials: a request carrying an Authorization header (AuthorizingClient adds the hub token
// above this client) goes through the mirror only when the route's `send_credentials` is set;
// otherwise it goes to the origin, so that a token never reaches the site cache by default and
// content only a token can read is never fetched into a shared cache.
//
// Thread-safety: as the wrapped client; routes are fixed at construction, their up/down state is
// guarded by a mutex that is never held across a request.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/net/http_client.h"

namespace hubfs::net {

struct MirrorRoute {
  std::string name;                   // for messages: "hub onnx"
  std::string mirror;                 // "http://site-cache:8080" (a path prefix is allowed)
  std::vector<std::string> prefixes;  // URL prefixes served by the mirror: "https://huggingface.co"
  bool fallback = false;              // ask the origin when the mirror cannot be reached
  bool send_credentials = false;      // requests with Authorization go through the mirror too
};

// The mirror URL of `url`: <mirror>/<host[:port]><path and query>. `url` must be http(s).
std::string MirrorUrl(std::string_view mirror, std::string_view url);

class MirrorClient final : public HttpClient {
 public:
  struct Options {
    // After a failed mirror request (fallback routes only), the route's requests go to the origin
    // for this long without trying the mirror.
    std::chrono::milliseconds retry_mirror_after{30000};
  };

  // `next` must outlive this object. Routes without prefixes are ignored.
  MirrorClient(HttpClient& next, std::vector<MirrorRoute> routes, Options options);
  MirrorClient(HttpClient& next, std::vector<MirrorRoute> routes);
  ~MirrorClient() override;

  Result<HttpResponse> Fetch(const HttpRequest& request) override;
  Result<HttpResponse> Stream(const HttpRequest& request, ByteSink& sink) override;

 private:
  struct Route;
  Route* RouteFor(std::string_view url) const;
  Result<HttpResponse> Send(const HttpRequest& request, ByteSink* sink);
  HttpClient& next_;
  Options options_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace hubfs::net
