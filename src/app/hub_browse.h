// Reading the configured hubs without a mount, for `hubfs ls`, `hubfs search` and `hubfs info
// HUB/PATH`. Indexes are read as a mount reads them: through the metadata cache of cache_dir (a
// copy younger than metadata_ttl is used without a request, an older one is revalidated, a server
// that fails falls back to the copy, noted) and, for git-listed hubs, their mirror below
// cache_dir (fetched only when older than metadata_ttl). Private to src/app/.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hubfs/app/config.h"
#include "hubfs/cache/cache.h"
#include "hubfs/fs/document_cache.h"
#include "hubfs/hubs/hub.h"
#include "hubfs/net/curl_http_client.h"
#include "model_summary.h"
#include "pin.h"
#include "stale_notes.h"

namespace hubfs::app {

// "a/b//c/" -> {"a", "b", "c"}.
std::vector<std::string> SplitPath(const std::string& path);
// True when `parts` names an entry of the listing or a folder implied by one.
bool PathExists(const hubs::Listing& listing, const std::vector<std::string>& parts);
// "onnx, digits": the configured hubs' names.
std::string HubNames(const Config& config);
// The configured hub named `name`, or nullptr.
const HubConfig* FindHubConfig(const Config& config, const std::string& name);

// What a browse command reads: the cache, the documents through it, and the hubs' mirrors.
struct HubReaders {
  net::CurlGlobal curl_global;
  std::unique_ptr<net::CurlHttpClient> http;
  cache::Cache* cache = nullptr;  // owned by the OpenCaches given to OpenHubReaders
  std::unique_ptr<fs::CachedDocumentSource> cached;
  std::unique_ptr<NotingDocumentSource> documents;
};

// Creates cache_dir when missing and opens the cache in `caches` (keyed by the absolute,
// normalised folder, as a mount names it, so that a process opens one folder once); `caches`
// must outlive `readers`.
Status OpenHubReaders(const Config& config, OpenCaches* caches, HubReaders* readers);

struct HubModels {
  bool listed = false;
  hubs::Listing listing;
  Summaries summaries;
};

// Lists one hub and summarises its models; problems and stale notes go to `err`, each line
// starting with `cmd` ("hubfs ls").
HubModels ListHub(const Config& config, const HubConfig& hub, HubReaders& readers, const std::string& cmd,
                  std::ostream& err);

// The size the cache learned for `url` (a "size <URL>" record a mount or an earlier command
// wrote after a HEAD), of any age, or nullopt. Never asks the server.
std::optional<uint64_t> LearnedSize(cache::Cache& cache, const std::string& url);

// Sets the size of each summary that has none to the total of its model folder's files, when
// every one of them has a published or a learned size (DIGITS stores and MindSpore assets
// publish none).
void AddLearnedSizes(const hubs::Listing& listing, cache::Cache& cache, std::vector<ModelSummary>* models);

}  // namespace hubfs::app
