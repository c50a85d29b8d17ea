#include "hubfs/net/authorizing_client.h"

#include <cctype>

namespace hubfs::net {
namespace {

Status WithHint(const Status& s, const Credential* credential) {
  if (!credential || credential->hint.empty()) return s;
  if (s.code() != Code::kUnauthenticated && s.code() != Code::kPermissionDenied) return s;
  return Status(s.code(), s.message() + ": " + credential->hint).WithHttpStatus(s.http_status());
}

}  // namespace

std::string OriginOf(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "";
  std::string scheme(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  std::string authority(rest);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : authority) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if ((scheme == "https" && authority.ends_with(":443")) || (scheme == "http" && authority.ends_with(":80"))) {
    authority.erase(authority.rfind(':'));
  }
  return scheme + "://" + authority;
}

AuthorizingClient::AuthorizingClient(HttpClient& next, std::vector<Credential> credentials)
    : next_(next), credentials_(std::move(credentials)) {
  for (Credential& c : credentials_) c.origin = OriginOf(c.origin);
}

const Credential* AuthorizingClient::For(const std::string& url) const {
  const std::string origin = OriginOf(url);
  for (const Credential& c : credentials_) {
    if (!origin.empty() && c.origin == origin) return &c;
  }
  return nullptr;
}

template <typename Sender>
Result<HttpResponse> AuthorizingClient::Send(const HttpRequest& request, Sender&& send) {
  const Credential* credential = For(request.url);
  Result<HttpResponse> response = Status::Internal("unsent");
  if (!credential || credential->token.empty()) {
    response = send(request);
  } else {
    HttpRequest authorized = request;
    authorized.headers.emplace_back("Authorization", "Bearer " + credential->token);
    response = send(authorized);
  }
  if (!response) return WithHint(response.error(), credential);
  return response;
}

Result<HttpResponse> AuthorizingClient::Fetch(const HttpRequest& request) {
  return Send(request, [this](const HttpRequest& r) { return next_.Fetch(r); });
}

Result<HttpResponse> AuthorizingClient::Stream(const HttpRequest& request, ByteSink& sink) {
  return Send(request, [this, &sink](const HttpRequest& r) { return next_.Stream(r, sink); });
}

}  // namespace hubfs::net
