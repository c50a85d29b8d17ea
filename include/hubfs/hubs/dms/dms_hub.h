// DmsHub: Deep Model Server / MXNet Model Server archives (HUB-PROTOCOLS.md §4), as the
// `--models name=URL` pairs of `deep-model-server` give them. There is no catalogue: the hub is
// the configured list. Each model shows as its archive, `<name>.model` (or `.mar`, `.zip`,
// `.tar.gz`, `.tgz` after the location's own suffix), and the fs layer adds the unpacked folder
// `<name>/` beside it with exactly the members the server would extract.
//
// No sizes or digests are published: sizes are learned with HEAD and the sha256 is pinned on
// the first complete download (trust on first use, re-checked with size and ETag), as for DIGITS.
//
// Thread-safety: List may be called from any thread; the hub keeps no mutable state.
#pragma once

#include <string>
#include <vector>

#include "hubfs/hubs/hub.h"

namespace hubfs::hubs::dms {

struct DmsModel {
  std::string name;      // the --models key: the folder name
  std::string location;  // http(s):// or file:// URL
};

struct DmsHubOptions {
  std::string name = "dms";
  std::vector<DmsModel> models;
};

// The archive file name for a model: `name` plus the location's archive suffix (".model" when it
// has none hubfs knows). "" when the result is not a usable file name.
std::string ArchiveFileName(const DmsModel& model);

class DmsHub final : public Hub {
 public:
  explicit DmsHub(DmsHubOptions options) : options_(std::move(options)) {}
  const std::string& name() const override { return options_.name; }
  Result<Listing> List(const ListOptions& options) override;

 private:
  DmsHubOptions options_;
};

}  // namespace hubfs::hubs::dms
