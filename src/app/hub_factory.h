// Builds the hub adapters of a configuration, for `hubfs mount` and for the commands that read
// hubs without a mount (`hubfs ls`, `hubfs search`).
//
// Two steps, so that a caller can wrap the git mirror (e.g. to observe stale fetches) before the
// hub is made: OpenHubMirror opens the local mirror a git-listed hub reads (nullptr for hubs
// listed over HTTP), MakeHub builds the adapter over the documents or that mirror.
#pragma once

#include <memory>

#include "hubfs/app/config.h"
#include "hubfs/core/result.h"
#include "hubfs/hubs/hub.h"
#include "hubfs/net/authorizing_client.h"
#include "hubfs/net/git/git_repository.h"
#include "hubfs/net/local_file_client.h"
#include "hubfs/net/mirror_client.h"

namespace hubfs::app {

// The HTTP client everything of a mount (hubs, sizes, read engine) goes through: hub credentials
// added by origin (AuthorizingClient), file:// URLs served from the local caches hubs read
// (LocalFileClient: the Hugging Face cache), requests below a hub's base URLs sent to its site
// cache when it has a `mirror` (MirrorClient, below the others, so that everything above still
// names the origin's URL), everything else by `base`.
class HubTransport {
 public:
  // `base` must outlive the transport.
  HubTransport(const Config& config, net::HttpClient& base);
  net::HttpClient& client() { return local_; }

 private:
  net::MirrorClient mirror_;
  net::AuthorizingClient authorizing_;
  net::LocalFileClient local_;
};

// The bare git mirror of a MindSpore hub, below <cache_dir>/git/ (created when missing; opening
// makes no request). nullptr for hub types that list over HTTP.
// The site cache routes of the hubs that set `mirror`: a hub's base URLs (onnx: raw_base and
// media_base with the repository; digits: each store; hf: the endpoint) plus its mirror_prefixes.
std::vector<net::MirrorRoute> MirrorRoutesOf(const Config& config);

Result<std::unique_ptr<net::GitRepository>> OpenHubMirror(const Config& config, const HubConfig& hub);

// The adapter for one [[hub]] table. `documents` (HTTP-listed hubs) and `mirror` (git-listed
// hubs: from OpenHubMirror, possibly wrapped; must be non-null for them) must outlive the hub.
std::unique_ptr<hubs::Hub> MakeHub(const Config& config, const HubConfig& hub, hubs::DocumentSource& documents,
                                   net::GitRepository* mirror);

}  // namespace hubfs::app
