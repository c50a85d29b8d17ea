// Filesystem::PublishedObjects (declared in filesystem.h): what the current tree would download,
// for the import of the hubs' clients' caches (app/cache_importer.h).
#include <set>

#include "hubfs/fs/filesystem.h"

namespace hubfs::fs {

std::vector<hubs::RemoteObject> Filesystem::PublishedObjects() const {
  const std::shared_ptr<const Tree> tree = tree_.load();
  std::vector<hubs::RemoteObject> out;
  std::set<Digest> seen;
  for (const Node& node : tree->nodes()) {
    // file:// content (an HF hub reading its local HF cache) is on this disk already and is
    // copied in when read; importing all of it up front would duplicate a whole HF cache.
    if (node.remote && node.remote->sha256 && node.remote->url.rfind("file://", 0) != 0 &&
        seen.insert(*node.remote->sha256).second) {
      out.push_back(*node.remote);
    }
  }
  return out;
}

}  // namespace hubfs::fs
