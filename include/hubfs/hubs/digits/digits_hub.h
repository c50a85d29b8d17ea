// DigitsHub: one or more NVIDIA DIGITS model stores (static HTTP folders) as one hub.
//
//   <store>/<model>/info.json        generated: the published info.json, byte for byte
//   <store>/<model>/aux.json         generated: the published aux.json, when there is one
//   <store>/<model>/<file>           remote: every file info.json names (size and sha256 unknown)
//   <store>/<model>/license.txt      when aux.json has a license and the file exists
//   <store>/<model>/<logo>           when aux.json names a logo and the file exists
//   <store>/ERROR.txt                instead of the models, when the store cannot be listed
//
// Models come from `<base>master.json`, or from the HTML listing of `<base>` when master.json is
// missing or unusable. See docs/hubs/digits.md.
#pragma once

#include <string>
#include <vector>

#include "hubfs/hubs/digits/digits_store.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::hubs::digits {

struct DigitsHubOptions {
  std::string name;                // folder in the mount
  std::vector<StoreSpec> stores;   // config `urls`, then DIGITS_MODEL_STORE_URL
};

// Generated files larger than this (license.txt, the logo) are served as remote files instead.
inline constexpr size_t kMaxInlineFileBytes = 4u << 20;
// A store listing more models is cut, with a warning: each model costs two requests.
inline constexpr size_t kMaxModelsPerStore = 10000;

class DigitsHub final : public Hub {
 public:
  // `documents` must outlive the hub. Unusable stores (see ResolveStores) make List fail; call
  // ResolveStores first to report them as configuration errors.
  DigitsHub(DigitsHubOptions options, DocumentSource& documents);

  const std::string& name() const override { return options_.name; }
  // Lists every store; a store that cannot be listed shows ERROR.txt and never hides the others.
  // An error only when the hub has no usable stores.
  Result<Listing> List(const ListOptions& options) override;

  // The stores after ResolveStores (empty when that failed).
  const std::vector<Store>& stores() const { return stores_; }

 private:
  DigitsHubOptions options_;
  DocumentSource& documents_;
  std::vector<Store> stores_;
  Status resolve_error_;
};

}  // namespace hubfs::hubs::digits
