// `hubfs ls` and `hubfs search`: the configured hubs' models, from their (cached) indexes, without
// a mount. Indexes are read like the mount reads them: through the metadata cache of cache_dir
// (a copy younger than metadata_ttl is used without a request; an older one is revalidated; a
// server that fails falls back to the copy, with a note on stderr) and, for git-listed hubs,
// their mirror below cache_dir (fetched only when older than metadata_ttl).
#include <ctime>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "hub_factory.h"
#include "hubfs/app/commands.h"
#include "hubfs/app/config.h"
#include "hubfs/cache/cache.h"
#include "hubfs/core/logging.h"
#include "hubfs/fs/document_cache.h"
#include "hubfs/net/curl_http_client.h"
#include "model_filter.h"
#include "model_table.h"
#include "stale_notes.h"

namespace hubfs::app {
namespace {

// Exit statuses.
constexpr int kOk = 0, kFailed = 1, kUsage = 2;

std::string LocalTime(int64_t seconds) {
  if (seconds <= 0) return "an unknown time";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

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

// True when `parts` names an entry of the listing or a folder implied by one.
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

// What a browse command reads: the cache, the documents through it, and the hubs' mirrors.
struct Readers {
  net::CurlGlobal curl_global;
  std::unique_ptr<net::CurlHttpClient> http;
  std::unique_ptr<cache::Cache> cache;
  std::unique_ptr<fs::CachedDocumentSource> cached;
  std::unique_ptr<NotingDocumentSource> documents;
};

Status OpenReaders(const Config& config, Readers* r) {
  std::error_code ec;
  std::filesystem::create_directories(config.cache_dir, ec);
  if (ec) return Status::InvalidArgument("cannot create the cache folder " + config.cache_dir + ": " + ec.message());
  net::CurlHttpClient::Options http_options;
  http_options.stall_timeout = std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(
                                                                     std::chrono::milliseconds(config.read_timeout_ms)));
  r->http = std::make_unique<net::CurlHttpClient>(http_options);
  cache::CacheOptions cache_options;
  cache_options.size_limit = ResolveCacheSize(config.cache_size, config.cache_dir);
  auto cache = cache::Cache::Open(config.cache_dir, cache_options);
  if (!cache) return cache.error().WithContext("opening the cache " + config.cache_dir);
  r->cache = std::move(cache).value();
  r->cached = std::make_unique<fs::CachedDocumentSource>(*r->http, *r->cache, config.metadata_ttl);
  r->documents = std::make_unique<NotingDocumentSource>(*r->cached);
  return Status();
}

struct HubModels {
  bool listed = false;
  hubs::Listing listing;
  Summaries summaries;
};

// Lists one hub and summarises its models; problems and stale notes go to `err`.
HubModels ListHub(const Config& config, const HubConfig& hub, Readers& r, const std::string& cmd, std::ostream& err) {
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

// Shared by ls and search: `target` is "" (every hub) or HUB[/PATH].
int Browse(const std::string& cmd, const BrowseArgs& args, ModelFilter filter, std::ostream& out, std::ostream& err) {
  // Hubs log every skipped index entry; a listing command shows only errors (stale copies and
  // failures are reported below, once per hub).
  log::SetLevel(log::Level::kError);
  auto config = LoadConfig(args.config_path);
  if (!config) {
    err << cmd << ": " << config.error().message() << "\n";
    return kFailed;
  }
  std::string hub_name, path;
  if (!args.target.empty()) {
    const size_t slash = args.target.find('/');
    hub_name = args.target.substr(0, slash);
    if (slash != std::string::npos) {
      for (const std::string& part : SplitPath(args.target.substr(slash + 1))) path += (path.empty() ? "" : "/") + part;
    }
  }
  std::vector<const HubConfig*> selected;
  for (const HubConfig& h : config->hubs) {
    if (hub_name.empty() || h.name == hub_name) selected.push_back(&h);
  }
  if (selected.empty()) {
    err << cmd << ": no hub named '" << hub_name << "' (configured in " << config->source
        << ": " << HubNames(*config) << ")\n";
    return kUsage;
  }
  Readers readers;
  if (Status s = OpenReaders(*config, &readers); !s.ok()) {
    err << cmd << ": " << s.message() << "\n";
    return kFailed;
  }
  filter.path = path;
  std::vector<ModelSummary> shown;
  bool failed = false;
  for (const HubConfig* hub : selected) {
    HubModels listed = ListHub(*config, *hub, readers, cmd, err);
    failed = failed || !listed.listed || !listed.summaries.failures.empty();
    if (!listed.listed) continue;
    if (!path.empty() && !PathExists(listed.listing, SplitPath(path))) {
      err << cmd << ": " << hub->name << "/" << path << ": no such folder or file in hub '" << hub->name << "'\n";
      return kUsage;
    }
    for (ModelSummary& m : Select(filter, listed.summaries.models)) shown.push_back(std::move(m));
  }
  out << (args.json ? FormatJson(shown) : FormatTable(shown));
  return failed ? kFailed : kOk;
}

}  // namespace

int RunLs(const BrowseArgs& args, std::ostream& out, std::ostream& err) {
  ModelFilter filter;
  filter.tags = args.tags;
  filter.framework = args.framework;
  return Browse("hubfs ls", args, filter, out, err);
}

int RunSearch(const BrowseArgs& args, std::ostream& out, std::ostream& err) {
  ModelFilter filter;
  filter.tags = args.tags;
  filter.framework = args.framework;
  filter.name_contains = args.text;
  return Browse("hubfs search", args, filter, out, err);
}

}  // namespace hubfs::app
