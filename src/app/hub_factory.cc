#include "hub_factory.h"

#include <algorithm>
#include <chrono>

#include "hubfs/core/names.h"
#include "hubfs/hubs/digits/digits_hub.h"
#include "hubfs/hubs/dms/dms_hub.h"
#include "hubfs/hubs/hf/hf_hub.h"
#include "hubfs/hubs/mindspore/mindspore_hub.h"
#include "hubfs/hubs/onnx/onnx_hub.h"
#include "hubfs/net/git/git_mirror.h"

namespace hubfs::app {
namespace {

std::vector<net::Credential> CredentialsOf(const Config& config) {
  std::vector<net::Credential> out;
  for (const HubConfig& hub : config.hubs) {
    if (hub.type != "hf" || !hub.hf.endpoint) continue;
    net::Credential c;
    c.origin = *hub.hf.endpoint;
    c.token = hub.hf.token.value_or("");
    c.hint = c.token.empty() ? "hub " + hub.name +
                                   " has no token: set a token (token = \"...\" in its [[hub]] table, HF_TOKEN, or "
                                   "the token file in HF_HOME) if the repository is private or gated"
                             : "the token of hub " + hub.name + " does not give access to this repository";
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> LocalCachesOf(const Config& config) {
  std::vector<std::string> out;
  for (const HubConfig& hub : config.hubs) {
    if (hub.type == "hf" && hub.hf.hf_cache && !hub.hf.hf_cache->empty()) out.push_back(*hub.hf.hf_cache);
    if (hub.type != "dms") continue;
    for (const auto& model : hub.dms.models) {  // exactly the configured local archives, no folder
      if (model.location.rfind("file://", 0) == 0) out.push_back(model.location.substr(7));
    }
  }
  return out;
}

}  // namespace

std::vector<net::MirrorRoute> MirrorRoutesOf(const Config& config) {
  std::vector<net::MirrorRoute> out;
  for (const HubConfig& hub : config.hubs) {
    if (hub.mirror.url.empty()) continue;
    net::MirrorRoute route{"hub " + hub.name, hub.mirror.url, hub.mirror.prefixes, hub.mirror.fallback,
                           hub.mirror.send_token};
    if (hub.type == "onnx") {
      const auto& r = hub.onnx.repo;
      for (const std::string& base : {hub.onnx.raw_base, hub.onnx.media_base}) {
        route.prefixes.push_back(net::JoinUrl(base, r.owner + "/" + r.name + "/" + r.ref));
      }
    } else if (hub.type == "digits") {
      for (const auto& store : hub.digits.stores) route.prefixes.push_back(store.url);
    } else if (hub.type == "hf" && hub.hf.endpoint) {
      route.prefixes.push_back(*hub.hf.endpoint);
    } else if (hub.type == "dms") {
      for (const auto& model : hub.dms.models) {
        if (model.location.rfind("http", 0) == 0) route.prefixes.push_back(model.location);
      }
    }
    out.push_back(std::move(route));
  }
  return out;
}

HubTransport::HubTransport(const Config& config, net::HttpClient& base)
    : mirror_(base, MirrorRoutesOf(config)),
      authorizing_(mirror_, CredentialsOf(config)),
      local_(authorizing_, LocalCachesOf(config)) {}

Result<std::unique_ptr<net::GitRepository>> OpenHubMirror(const Config& config, const HubConfig& hub) {
  if (hub.type != "mindspore") return std::unique_ptr<net::GitRepository>();
  net::GitMirrorOptions git;
  git.url = hub.mindspore.git_url;
  git.mirror_dir = config.cache_dir + "/git/" + Slugify(hub.mindspore.git_url);
  git.branches = hub.mindspore.branches;
  // A fetch moves a whole repository; give it more than one block's read_timeout.
  git.timeout = std::max(std::chrono::milliseconds(60000), std::chrono::milliseconds(config.read_timeout_ms * 6));
  auto repository = net::LibGit2Repository::Open(git);
  if (!repository) return repository.error().WithContext("hub " + hub.name + ": git mirror " + git.mirror_dir);
  return std::unique_ptr<net::GitRepository>(std::move(repository).value());
}

std::unique_ptr<hubs::Hub> MakeHub(const Config& config, const HubConfig& hub, hubs::DocumentSource& documents,
                                   net::GitRepository* mirror) {
  if (hub.type == "digits") return std::make_unique<hubs::digits::DigitsHub>(hub.digits, documents);
  if (hub.type == "dms") return std::make_unique<hubs::dms::DmsHub>(hub.dms);
  if (hub.type == "mindspore") {
    hubs::mindspore::MindSporeHubOptions options = hub.mindspore;
    options.metadata_ttl = config.metadata_ttl;
    return std::make_unique<hubs::mindspore::MindSporeHub>(options, *mirror);
  }
  if (hub.type == "hf") {
    hubs::hf::HfHubOptions options;
    options.name = hub.name;
    options.endpoint = hub.hf.endpoint.value_or(options.endpoint);
    for (const std::string& spec : hub.hf.repos) {
      if (auto repo = hubs::hf::ParseRepoSpec(spec)) options.repos.push_back(*repo);  // checked by ParseConfig
    }
    options.local_cache = hub.hf.hf_cache.value_or("");
    options.has_token = hub.hf.token.has_value();
    options.metadata_ttl = config.metadata_ttl;
    return std::make_unique<hubs::hf::HfHub>(options, documents);
  }
  return std::make_unique<hubs::onnx::OnnxHub>(hub.onnx, documents);
}

}  // namespace hubfs::app
