// LocalFileClient: serves file:// URLs below allowed folders as if they came from an HTTP server
// (200, or 206 with Content-Range for ranged requests; 404 for a missing file), and passes every
// other URL to the wrapped client. This is how files that an existing local cache (the Hugging
// Face cache) already holds are read with no network request, through the same read engine,
// block cache and verification as downloads.
//
// Only paths below `roots` are served (after resolving symlinks); the wrapped client never
// follows a redirect to file:// (net/curl_http_client: http and https only), so a server cannot
// make hubfs read local files.
//
// Thread-safety: as the wrapped client.
#pragma once

#include <string>
#include <vector>

#include "hubfs/net/http_client.h"

namespace hubfs::net {

class LocalFileClient final : public HttpClient {
 public:
  // `next` must outlive this object. `roots`: absolute folders; empty: no file:// URL is served.
  LocalFileClient(HttpClient& next, std::vector<std::string> roots);

  Result<HttpResponse> Fetch(const HttpRequest& request) override;
  Result<HttpResponse> Stream(const HttpRequest& request, ByteSink& sink) override;

 private:
  // Serves a file:// request, to `sink` or (when null) into the response body.
  Result<HttpResponse> Serve(const HttpRequest& request, ByteSink* sink);
  HttpClient& next_;
  std::vector<std::string> roots_;  // canonical
};

}  // namespace hubfs::net
