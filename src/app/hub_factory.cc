#include "hub_factory.h"

#include <algorithm>
#include <chrono>

#include "hubfs/core/names.h"
#include "hubfs/hubs/digits/digits_hub.h"
#include "hubfs/hubs/mindspore/mindspore_hub.h"
#include "hubfs/hubs/onnx/onnx_hub.h"
#include "hubfs/net/git/git_mirror.h"

namespace hubfs::app {

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
  if (hub.type == "mindspore") {
    hubs::mindspore::MindSporeHubOptions options = hub.mindspore;
    options.metadata_ttl = config.metadata_ttl;
    return std::make_unique<hubs::mindspore::MindSporeHub>(options, *mirror);
  }
  return std::make_unique<hubs::onnx::OnnxHub>(hub.onnx, documents);
}

}  // namespace hubfs::app
