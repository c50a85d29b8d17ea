#include "hub_browse.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <ostream>

#include "browse_cache.h"
#include "hubfs/core/logging.h"
#include "hubfs/fs/remote_sizes.h"
#include "hubfs/hubs/hf/hf_hub.h"

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

void QuietHubLogs() {
  log::SetLevel(log::Level::kError);
  (void)log::LogToFile("/dev/null");  // stays on stderr, errors only, when it cannot be opened
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

Status OpenHubReaders(Config* config, OpenCaches* caches, HubReaders* r, std::string* note) {
  // Absolute and normalised, as hubfs mount names it (user.hubfs.cache_dir), so that a mount's
  // file and a hub path of the same cache share one open Cache.
  HUBFS_ASSIGN_OR_RETURN(config->cache_dir, BrowseCacheDir(config->cache_dir, note));
  const std::string& dir = config->cache_dir;
  net::CurlHttpClient::Options http_options;
  http_options.stall_timeout = std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(
                                                                     std::chrono::milliseconds(config->read_timeout_ms)));
  r->http = std::make_unique<net::CurlHttpClient>(http_options);
  r->transport = std::make_unique<HubTransport>(*config, *r->http);
  auto& cache = (*caches)[dir];
  if (!cache) {
    cache::CacheOptions cache_options;
    cache_options.size_limit = ResolveCacheSize(config->cache_size, dir);
    auto opened = cache::Cache::Open(dir, cache_options);
    if (!opened) return opened.error().WithContext("opening the cache " + dir);
    cache = std::move(opened).value();
  }
  r->cache = cache.get();
  r->cached = std::make_unique<fs::CachedDocumentSource>(r->transport->client(), *r->cache, config->metadata_ttl);
  r->documents = std::make_unique<NotingDocumentSource>(*r->cached);
  return Status();
}

BrowsedHub::BrowsedHub(const Config& config, const HubConfig& hub, HubReaders& readers, std::string cmd,
                       std::ostream& err, bool say_failures)
    : config_(config), hub_(hub), readers_(readers), cmd_(std::move(cmd)), err_(err), say_failures_(say_failures) {
  auto mirror = OpenHubMirror(config_, hub_);
  if (!mirror) {
    open_error_ = mirror.error();
    return;
  }
  if (*mirror) git_ = std::make_unique<NotingGitRepository>(std::move(*mirror));
  adapter_ = MakeHub(config_, hub_, *readers_.documents, git_.get());
}

void BrowsedHub::Say(const std::string& line) {
  if (said_.insert(line).second) err_ << cmd_ << ": " << line << "\n";
}

const HubModels& BrowsedHub::List() {
  models_ = HubModels{};
  if (!adapter_) {
    Say(open_error_.message());
    return models_;
  }
  auto listing = adapter_->List(hubs::ListOptions{});
  std::vector<StaleNote> notes = readers_.documents->TakeNotes();
  if (git_) {
    for (StaleNote& n : git_->TakeNotes()) notes.push_back(std::move(n));
  }
  if (notes.size() == 1) {
    Say("note: hub " + hub_.name + ": using the copy of " + notes[0].what + " fetched " +
        LocalTime(notes[0].fetched_at) + ", which may be stale: " + notes[0].reason);
  } else if (notes.size() > 1) {
    // A Hugging Face hub reads two documents per repository: one line for all of them.
    int64_t oldest = notes[0].fetched_at;
    for (const StaleNote& n : notes) oldest = std::min(oldest, n.fetched_at);
    Say("note: hub " + hub_.name + ": using the copies of " + std::to_string(notes.size()) +
        " documents (the oldest fetched " + LocalTime(oldest) + "), which may be stale: " + notes[0].reason);
  }
  if (!listing) {
    Say("hub " + hub_.name + ": " + listing.error().message() + " (nothing usable is cached)");
    return models_;
  }
  models_.listed = true;
  models_.listing = std::move(listing).value();
  // Hugging Face: tags, library and gating come from the repo info HfHub read (or an earlier
  // command or a mount did), as the metadata cache holds it; never a request of its own.
  std::string endpoint = hub_.hf.endpoint.value_or(hubs::hf::HfHubOptions{}.endpoint);
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  cache::Cache& cache = *readers_.cache;
  auto repo_info = [&cache, &endpoint](const hubs::hf::RepoRef& repo) -> std::optional<std::string> {
    auto doc = cache.GetDoc(hubs::hf::RepoInfoUrl(endpoint, repo));
    if (!doc || !*doc) return std::nullopt;
    return (*doc)->body;
  };
  models_.summaries = SummarizeListing(hub_.type, hub_.name, models_.listing, repo_info);
  for (const std::string& f : models_.summaries.failures) {
    if (say_failures_) Say("hub " + hub_.name + ": " + f + " (nothing usable is cached)");
  }
  return models_;
}

Result<bool> BrowsedHub::Reveal(const std::vector<std::string>& parts) {
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!models_.listed) return false;
    const std::vector<std::string> prefix(parts.begin(), parts.begin() + static_cast<long>(i) + 1);
    if (PathExists(models_.listing, prefix)) continue;
    // For a repository, the requests a mount's lookup of the same name would make.
    HUBFS_ASSIGN_OR_RETURN(bool learned,
                           adapter_->Discover(std::vector<std::string>(prefix.begin(), prefix.end() - 1), parts[i]));
    if (!learned) return false;
    List();
    if (!models_.listed || !PathExists(models_.listing, prefix)) return false;
  }
  return true;
}

std::optional<std::string> FailureAbove(const hubs::Listing& listing, const std::vector<std::string>& parts) {
  for (const hubs::Entry& e : listing.entries) {
    if (e.kind != hubs::EntryKind::kFile || e.remote || e.path.empty() || e.path.back() != "ERROR.txt" ||
        e.path.size() - 1 > parts.size() || !std::equal(e.path.begin(), e.path.end() - 1, parts.begin())) {
      continue;
    }
    std::string why;  // one line: runs of white space as one space
    for (char c : e.content) {
      const bool space = c == '\n' || c == ' ' || c == '\t';
      if (!space) why.push_back(c);
      else if (!why.empty() && why.back() != ' ') why.push_back(' ');
    }
    while (!why.empty() && why.back() == ' ') why.pop_back();
    return why;
  }
  return std::nullopt;
}

std::string GatedNote(const HubConfig& hub, const ModelSummary& model) {
  if (!model.gated || hub.type != "hf" || hub.hf.token) return "";
  return "note: hub " + hub.name + ": " + model.name +
         " is gated: reading its files needs a token with access (set token = \"...\" in the hub's [[hub]] "
         "table, HF_TOKEN, or the token file in HF_HOME)";
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
