#include "hub_browse.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <ostream>

#include "hub_factory.h"
#include "hubfs/fs/remote_sizes.h"

namespace hubfs::app {
namespace {

std::string LocalTime(int64_t seconds) {
  if (seconds <= 0) return "an unknown time";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

bool PathExists(const hubs::Listing& listing, const std::vector<std::string>& parts) {
  for (const hubs::Entry& e : listing.entries) {
    if (e.path.size() >= parts.size() && std::equal(parts.begin(), parts.end(), e.path.begin())) return true;
  }
  return false;
}

std::string HubNames(const Config& config) {
  std::string names;
  for (const HubConfig& h : config.hubs) names += (names.empty() ? "" : ", ") + h.name;
  return names;
}

const HubConfig* FindHubConfig(const Config& config, const std::string& name) {
  for (const HubConfig& h : config.hubs) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

Status OpenHubReaders(const Config& config, OpenCaches* caches, HubReaders* r) {
  std::error_code ec;
  // As hubfs mount names it (user.hubfs.cache_dir), so that a mount's file and a hub path of
  // the same cache share one open Cache.
  const std::string dir = std::filesystem::absolute(config.cache_dir, ec).lexically_normal();
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::InvalidArgument("cannot create the cache folder " + dir + ": " + ec.message());
  net::CurlHttpClient::Options http_options;
  http_options.stall_timeout = std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(
                                                                     std::chrono::milliseconds(config.read_timeout_ms)));
  r->http = std::make_unique<net::CurlHttpClient>(http_options);
  auto& cache = (*caches)[dir];
  if (!cache) {
    cache::CacheOptions cache_options;
    cache_options.size_limit = ResolveCacheSize(config.cache_size, dir);
    auto opened = cache::Cache::Open(dir, cache_options);
    if (!opened) return opened.error().WithContext("opening the cache " + dir);
    cache = std::move(opened).value();
  }
  r->cache = cache.get();
  r->cached = std::make_unique<fs::CachedDocumentSource>(*r->http, *r->cache, config.metadata_ttl);
  r->documents = std::make_unique<NotingDocumentSource>(*r->cached);
  return Status();
}

HubModels ListHub(const Config& config, const HubConfig& hub, HubReaders& r, const std::string& cmd,
                  std::ostream& err) {
  HubModels out;
  auto mirror = OpenHubMirror(config, hub);
  if (!mirror) {
    err << cmd << ": " << mirror.error().message() << "\n";
    return out;
  }
  std::unique_ptr<NotingGitRepository> git;
  if (*mirror) git = std::make_unique<NotingGitRepository>(std::move(*mirror));
  auto adapter = MakeHub(config, hub, *r.documents, git.get());
  auto listing = adapter->List(hubs::ListOptions{});
  std::vector<StaleNote> notes = r.documents->TakeNotes();
  if (git) {
    for (StaleNote& n : git->TakeNotes()) notes.push_back(std::move(n));
  }
  for (const StaleNote& n : notes) {
    err << cmd << ": note: hub " << hub.name << ": using the copy of " << n.what << " fetched "
        << LocalTime(n.fetched_at) << ", which may be stale: " << n.reason << "\n";
  }
  if (!listing) {
    err << cmd << ": hub " << hub.name << ": " << listing.error().message() << " (nothing usable is cached)\n";
    return out;
  }
  out.listed = true;
  out.listing = std::move(listing).value();
  out.summaries = SummarizeListing(hub.type, hub.name, out.listing);
  for (const std::string& f : out.summaries.failures) {
    err << cmd << ": hub " << hub.name << ": " << f << " (nothing usable is cached)\n";
  }
  return out;
}

std::optional<uint64_t> LearnedSize(cache::Cache& cache, const std::string& url) {
  auto remembered = fs::RemoteSizes::Remembered(cache, url);
  if (!remembered) return std::nullopt;
  return remembered->size;
}

void AddLearnedSizes(const hubs::Listing& listing, cache::Cache& cache, std::vector<ModelSummary>* models) {
  AddFolderSizes(
      listing, [&cache](const hubs::RemoteObject& remote) { return LearnedSize(cache, remote.url); }, models);
}

}  // namespace hubfs::app
