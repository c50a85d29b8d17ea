// Fuzz target: ONNX_HUB_MANIFEST.json parsing (hubs/onnx). Any input must give a manifest or an
// error, never a crash, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hubfs/hubs/onnx/onnx_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto manifest = hubfs::hubs::onnx::ParseManifest(text);
  (void)manifest;
  auto spec = hubfs::hubs::onnx::ParseRepoSpec(text.substr(0, 256));
  (void)spec;
  return 0;
}
