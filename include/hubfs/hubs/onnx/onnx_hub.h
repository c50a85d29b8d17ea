// OnnxHub: a repository that publishes ONNX_HUB_MANIFEST.json (the ONNX Model Zoo convention).
// The manifest comes from `raw_base`, model files from `media_base` (the Git LFS media host;
// `raw_base` serves LFS pointer files for them).
#pragma once

#include <string>

#include "hubfs/hubs/hub.h"
#include "hubfs/hubs/onnx/onnx_manifest.h"

namespace hubfs::hubs::onnx {

struct OnnxHubOptions {
  std::string name;        // folder in the mount
  RepoSpec repo;
  std::string raw_base = "https://raw.githubusercontent.com";
  std::string media_base = "https://media.githubusercontent.com/media";
};

class OnnxHub final : public Hub {
 public:
  // `documents` must outlive the hub.
  OnnxHub(OnnxHubOptions options, DocumentSource& documents);

  const std::string& name() const override { return options_.name; }
  Result<Listing> List(const ListOptions& options) override;

  std::string ManifestUrl() const;

 private:
  OnnxHubOptions options_;
  DocumentSource& documents_;
};

}  // namespace hubfs::hubs::onnx
