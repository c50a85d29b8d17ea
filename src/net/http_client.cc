// The transport-independent parts of http_client.h: the HTTP status mapping, URL joining and
// header lookup.
#include "hubfs/net/http_client.h"

#include <fmt/format.h>

#include <cstddef>

namespace hubfs::net {
namespace {

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

Status StatusFromHttp(int http_status, std::string_view method, std::string_view url) {
  if ((http_status >= 200 && http_status < 300) || http_status == 304) return Status();
  std::string message = fmt::format("{} {}: HTTP {}", method, url, http_status);
  Code code;
  if (http_status == 404 || http_status == 410) {
    code = Code::kNotFound;
  } else if (http_status == 401) {
    code = Code::kUnauthenticated;
  } else if (http_status == 403) {
    code = Code::kPermissionDenied;
  } else if (http_status == 429) {
    code = Code::kRateLimited;
  } else if (http_status >= 400 && http_status < 500) {
    code = Code::kInvalidArgument;
  } else {
    // 5xx, and statuses a client cannot act on (1xx, an unfollowed 3xx, nonsense): the server
    // did not give us the resource. Whether to retry is the client's decision (5xx only).
    code = Code::kUnavailable;
    if (http_status < 500 || http_status > 599) message += " (unexpected status)";
  }
  return Status(code, std::move(message)).WithHttpStatus(http_status);
}

std::string JoinUrl(std::string_view base, std::string_view path) {
  while (!base.empty() && base.back() == '/') base.remove_suffix(1);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string url;
  url.reserve(base.size() + 1 + path.size());
  url.append(base);
  url.push_back('/');
  url.append(path);
  return url;
}

}  // namespace hubfs::net
