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
#include <set>
#include <string>
#include <vector>

#include "hubfs/app/config.h"
#include "hubfs/cache/cache.h"
#include "hubfs/fs/document_cache.h"
#include "hubfs/hubs/hub.h"
#include "hubfs/net/curl_http_client.h"
#include "hub_factory.h"
#include "model_summary.h"
#include "pin.h"
#include "stale_notes.h"

namespace hubfs::app {

// Hubs log for a mount's log (skipped index entries, repositories that cannot be listed); the
// commands that read hubs without a mount report every problem themselves, once, on stderr, so
// they send the log nowhere. Call before any hub is made.
void QuietHubLogs();

// "a/b//c/" -> {"a", "b", "c"}.
std::vector<std::string> SplitPath(const std::string& path);
// True when `parts` names an entry of the listing or a folder implied by one.
bool PathExists(const hubs::Listing& listing, const std::vector<std::string>& parts);
// "onnx, digits": the configured hubs' names.
std::string HubNames(const Config& config);
// The configured hub named `name`, or nullptr.
const HubConfig* FindHubConfig(const Config& config, const std::string& name);

// What a browse command reads: the cache, the documents through it, and the hubs' mirrors. The
// HTTP client is wrapped as a mount wraps it (HubTransport: each hub's token for its origin only,
// file:// below the local Hugging Face caches).
struct HubReaders {
  net::CurlGlobal curl_global;
  std::unique_ptr<net::CurlHttpClient> http;
  std::unique_ptr<HubTransport> transport;
  cache::Cache* cache = nullptr;  // owned by the OpenCaches given to OpenHubReaders
  std::unique_ptr<fs::CachedDocumentSource> cached;
  std::unique_ptr<NotingDocumentSource> documents;
};

// Opens the cache folder BrowseCacheDir picks in `caches` (keyed by the absolute, normalised
// folder, as a mount names it, so that a process opens one folder once) and sets
// `config->cache_dir` to it (git mirrors live below it too); `*note` says when it is not the
// configured one. `caches` must outlive `readers`.
Status OpenHubReaders(Config* config, OpenCaches* caches, HubReaders* readers, std::string* note);

struct HubModels {
  bool listed = false;
  hubs::Listing listing;
  Summaries summaries;
};

// One hub read without a mount. The adapter is kept, so that names of an open namespace (Hugging
// Face repositories that are not configured) can be discovered as a mount's lookup discovers
// them (Hub::Discover), and the hub listed again with them.
class BrowsedHub {
 public:
  // `config`, `hub` and `readers` must outlive the object. Problems and notes go to `err`, each
  // line starting with `cmd` ("hubfs ls"), each said once. Parts of the hub that could not be
  // listed (Summaries::failures) are said only with `say_failures`; FailureAbove finds the one
  // that concerns a path.
  BrowsedHub(const Config& config, const HubConfig& hub, HubReaders& readers, std::string cmd, std::ostream& err,
             bool say_failures);

  // Lists the hub (again) and summarises its models.
  const HubModels& List();
  // The last List's result.
  const HubModels& models() const { return models_; }
  // Makes `parts` (below the hub's folder) part of the listing when the hub can learn it: each
  // component the listing lacks is asked with Hub::Discover, and the hub is listed again after
  // each name it learned. Call after List. Returns whether `parts` is listed now; an error when
  // the hub could not tell (it refused access, or its server failed and nothing is cached).
  Result<bool> Reveal(const std::vector<std::string>& parts);

 private:
  void Say(const std::string& line);

  const Config& config_;
  const HubConfig& hub_;
  HubReaders& readers_;
  std::string cmd_;
  std::ostream& err_;
  Status open_error_;
  std::unique_ptr<NotingGitRepository> git_;
  std::unique_ptr<hubs::Hub> adapter_;
  bool say_failures_;
  std::set<std::string> said_;
  HubModels models_;
};

// Why the folder holding `parts` could not be listed: the text (on one line) of the ERROR.txt
// that a hub left in it or in a folder above it (a DIGITS store, a Hugging Face repository), or
// nullopt when there is none.
std::optional<std::string> FailureAbove(const hubs::Listing& listing, const std::vector<std::string>& parts);

// "hub hf: org/name is gated: ..." when reading `model`'s files needs a token that `hub` does
// not have; "" otherwise.
std::string GatedNote(const HubConfig& hub, const ModelSummary& model);

// The size the cache learned for `url` (a "size <URL>" record a mount or an earlier command
// wrote after a HEAD), of any age, or nullopt. Never asks the server.
std::optional<uint64_t> LearnedSize(cache::Cache& cache, const std::string& url);

// Sets the size of each summary that has none to the total of its model folder's files, when
// every one of them has a published or a learned size (DIGITS stores and MindSpore assets
// publish none).
void AddLearnedSizes(const hubs::Listing& listing, cache::Cache& cache, std::vector<ModelSummary>* models);

}  // namespace hubfs::app
