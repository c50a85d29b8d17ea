#include "hubfs/net/mirror_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <optional>
#include <utility>

#include "hubfs/core/logging.h"
#include "hubfs/net/authorizing_client.h"

namespace hubfs::net {
namespace {

using Clock = std::chrono::steady_clock;

// The part of a URL after "scheme://authority": "/path?query", "?query" or "".
std::string_view PathOf(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return url;
  const size_t path = url.find_first_of("/?#", scheme_end + 3);
  return path == std::string_view::npos ? std::string_view() : url.substr(path);
}

bool HasAuthorization(const Headers& headers) {
  return std::any_of(headers.begin(), headers.end(), [](const auto& h) {
    return h.first.size() == 13 && std::equal(h.first.begin(), h.first.end(), "authorization",
                                              [](char a, char b) {
                                                return std::tolower(static_cast<unsigned char>(a)) == b;
                                              });
  });
}

// The mirror could not give an answer (as opposed to answering with the origin's refusal).
bool Unreachable(const Status& s) {
  return s.code() == Code::kUnavailable || s.code() == Code::kDeadlineExceeded;
}

// Remembers whether any body byte reached the real sink: after that, no other server may be asked.
class DeliveryTracker final : public ByteSink {
 public:
  explicit DeliveryTracker(ByteSink& sink) : sink_(sink) {}
  Status Begin(const HttpResponse& head) override { return sink_.Begin(head); }
  Status Write(std::string_view data) override {
    delivered_ = true;
    return sink_.Write(data);
  }
  bool delivered() const { return delivered_; }

 private:
  ByteSink& sink_;
  bool delivered_ = false;
};

struct Prefix {
  std::string origin;  // OriginOf() form
  std::string path;    // without a trailing '/'; "" matches the whole origin
};

Prefix ParsePrefix(std::string_view url) {
  std::string_view path = PathOf(url);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return {OriginOf(url), std::string(path)};
}

// How many characters of `url` the prefix covers, or nullopt when it does not cover it.
std::optional<size_t> Covers(const Prefix& prefix, const std::string& origin, std::string_view path) {
  if (origin.empty() || origin != prefix.origin) return std::nullopt;
  if (!path.starts_with(prefix.path)) return std::nullopt;
  if (path.size() > prefix.path.size()) {
    const char next = path[prefix.path.size()];
    if (next != '/' && next != '?' && next != '#') return std::nullopt;
  }
  return prefix.origin.size() + prefix.path.size();
}

}  // namespace

std::string MirrorUrl(std::string_view mirror, std::string_view url) {
  while (!mirror.empty() && mirror.back() == '/') mirror.remove_suffix(1);
  const std::string origin = OriginOf(url);
  const std::string_view authority = std::string_view(origin).substr(origin.find("://") + 3);
  const std::string_view path = PathOf(url);
  return fmt::format("{}/{}{}{}", mirror, authority, path.starts_with('/') ? "" : "/", path);
}

struct MirrorClient::Route {
  MirrorRoute config;
  std::vector<Prefix> prefixes;

  std::mutex mu;
  bool down = false;                 // guarded by mu: the last mirror request found it unreachable
  Clock::time_point retry_at{};      // guarded by mu: fallback routes skip the mirror until then
  bool told_credentials = false;     // guarded by mu

  // True when a fallback route should not try its mirror now.
  bool Skip() {
    std::lock_guard<std::mutex> lock(mu);
    return config.fallback && down && Clock::now() < retry_at;
  }

  void MarkDown(const Status& why, std::chrono::milliseconds hold) {
    bool was_down = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      was_down = down;
      down = true;
      retry_at = Clock::now() + hold;
    }
    if (was_down) return;
    if (config.fallback) {
      HUBFS_LOG_WARN("{}: the site cache {} cannot be reached ({}); asking the origin directly, and the site "
                     "cache again in {} s",
                     config.name, config.mirror, why.message(), hold.count() / 1000);
    } else {
      HUBFS_LOG_WARN("{}: the site cache {} cannot be reached ({}); mirror_fallback is off, so its downloads fail "
                     "until the site cache is back",
                     config.name, config.mirror, why.message());
    }
  }

  void MarkUp() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!down) return;
      down = false;
    }
    HUBFS_LOG_INFO("{}: the site cache {} answers again", config.name, config.mirror);
  }

  void NoteCredentials() {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (told_credentials) return;
      told_credentials = true;
    }
    HUBFS_LOG_INFO("{}: requests that carry the hub's token go to the origin, not to the site cache {} "
                   "(mirror_token = false)",
                   config.name, config.mirror);
  }
};

MirrorClient::MirrorClient(HttpClient& next, std::vector<MirrorRoute> routes)
    : MirrorClient(next, std::move(routes), Options()) {}

MirrorClient::MirrorClient(HttpClient& next, std::vector<MirrorRoute> routes, Options options)
    : next_(next), options_(options) {
  for (MirrorRoute& r : routes) {
    if (r.prefixes.empty() || r.mirror.empty()) continue;
    auto route = std::make_unique<Route>();
    for (const std::string& p : r.prefixes) route->prefixes.push_back(ParsePrefix(p));
    route->config = std::move(r);
    routes_.push_back(std::move(route));
  }
}

MirrorClient::~MirrorClient() = default;

MirrorClient::Route* MirrorClient::RouteFor(std::string_view url) const {
  const std::string origin = OriginOf(url);
  const std::string_view path = PathOf(url);
  Route* best = nullptr;
  size_t best_length = 0;
  for (const auto& route : routes_) {
    for (const Prefix& prefix : route->prefixes) {
      if (auto length = Covers(prefix, origin, path); length && (!best || *length > best_length)) {
        best = route.get();
        best_length = *length;
      }
    }
  }
  return best;
}

Result<HttpResponse> MirrorClient::Send(const HttpRequest& request, ByteSink* sink) {
  auto direct = [&]() { return sink ? next_.Stream(request, *sink) : next_.Fetch(request); };
  Route* route = RouteFor(request.url);
  if (!route) return direct();
  if (!route->config.send_credentials && HasAuthorization(request.headers)) {
    route->NoteCredentials();
    return direct();
  }
  if (route->Skip()) return direct();

  HttpRequest mirrored = request;
  mirrored.url = MirrorUrl(route->config.mirror, request.url);
  // A fallback route gives the mirror one attempt: its retries and backoff would use up the time a
  // reader waits (read_timeout) before the origin is even asked.
  if (route->config.fallback) mirrored.max_attempts = 1;
  std::optional<DeliveryTracker> tracker;
  if (sink) tracker.emplace(*sink);
  Result<HttpResponse> response = sink ? next_.Stream(mirrored, *tracker) : next_.Fetch(mirrored);
  if (response) {
    route->MarkUp();
    return response;
  }
  const Status error = response.error();
  if (!Unreachable(error)) {
    route->MarkUp();  // it answered: the answer stands
    return error.WithContext(route->config.name + ", through its site cache");
  }
  route->MarkDown(error, options_.retry_mirror_after);
  if (!route->config.fallback || (tracker && tracker->delivered())) {
    return error.WithContext(route->config.name + ", through its site cache");
  }
  return direct();
}

Result<HttpResponse> MirrorClient::Fetch(const HttpRequest& request) { return Send(request, nullptr); }

Result<HttpResponse> MirrorClient::Stream(const HttpRequest& request, ByteSink& sink) { return Send(request, &sink); }

}  // namespace hubfs::net
