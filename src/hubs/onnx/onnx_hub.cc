#include "hubfs/hubs/onnx/onnx_hub.h"

#include "hubfs/core/logging.h"
#include "hubfs/hubs/onnx/onnx_layout.h"
#include "hubfs/net/http_client.h"

namespace hubfs::hubs::onnx {

namespace {
std::string RepoPrefix(const std::string& base, const RepoSpec& repo) {
  return net::JoinUrl(base, repo.owner + "/" + repo.name + "/" + repo.ref);
}
}  // namespace

OnnxHub::OnnxHub(OnnxHubOptions options, DocumentSource& documents)
    : options_(std::move(options)), documents_(documents) {}

std::string OnnxHub::ManifestUrl() const {
  return net::JoinUrl(RepoPrefix(options_.raw_base, options_.repo), "ONNX_HUB_MANIFEST.json");
}

Result<Listing> OnnxHub::List(const ListOptions& options) {
  const std::string url = ManifestUrl();
  HUBFS_ASSIGN_OR_RETURN(auto doc, documents_.Get(url, {.revalidate = options.refresh}));
  if (doc.stale) {
    HUBFS_LOG_WARN("hub {}: using the cached manifest: {}", options_.name, doc.stale_reason);
  }
  auto parsed = ParseManifest(doc.body);
  if (!parsed) return parsed.error().WithContext("manifest " + url);
  for (const std::string& line : parsed->skipped) {
    HUBFS_LOG_WARN("hub {}: manifest {}: skipped {}", options_.name, url, line);
  }
  LayoutResult layout = BuildLayout(parsed->entries, RepoPrefix(options_.media_base, options_.repo));
  for (const std::string& line : layout.warnings) HUBFS_LOG_WARN("hub {}: {}", options_.name, line);
  HUBFS_LOG_INFO("hub {}: {} manifest entries, {} files and links", options_.name,
                 parsed->entries.size(), layout.entries.size());
  Listing listing;
  listing.entries = std::move(layout.entries);
  listing.mtime = doc.fetched_at;
  return listing;
}

}  // namespace hubfs::hubs::onnx
