// AuthorizingClient: adds a hub's credentials to the requests meant for that hub, and only
// those: a request gets `Authorization: Bearer <token>` when its URL's origin (scheme, host and
// port) is a credential's origin. Redirects to another origin (the Hugging Face CDN) go out
// without it: libcurl drops a custom Authorization header when a redirect changes host, port
// or scheme (tests/integration/test_hf.py proves it against a CDN that refuses tokens).
//
// A 401 or 403 from a credential's origin gets the credential's hint as context, so the error
// a user reads says what to do (set a token, or that the token has no access).
//
// Tokens are never part of a message, a log line or a URL.
//
// Thread-safety: as the wrapped client; the credential list is fixed at construction.
#pragma once

#include <string>
#include <vector>

#include "hubfs/net/http_client.h"

namespace hubfs::net {

struct Credential {
  std::string origin;     // "https://huggingface.co" (scheme://host[:port], no path)
  std::string token;      // "" = none: only the hint applies
  std::string hint;       // context for 401/403 answers from this origin
};

// The origin of a URL: "scheme://host[:port]", lower-cased, default ports dropped; "" when the
// URL has no scheme.
std::string OriginOf(std::string_view url);

class AuthorizingClient final : public HttpClient {
 public:
  // `next` must outlive this object.
  AuthorizingClient(HttpClient& next, std::vector<Credential> credentials);

  Result<HttpResponse> Fetch(const HttpRequest& request) override;
  Result<HttpResponse> Stream(const HttpRequest& request, ByteSink& sink) override;

 private:
  const Credential* For(const std::string& url) const;
  template <typename Sender>
  Result<HttpResponse> Send(const HttpRequest& request, Sender&& send);
  HttpClient& next_;
  std::vector<Credential> credentials_;  // origins normalized
};

}  // namespace hubfs::net
