// Fuzz target: the .onnx protobuf reader of hubfs publish (hubs/onnx/onnx_model_reader.h). Any
// input must give a summary or an error, never a crash, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hubfs/hubs/onnx/onnx_model_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto summary = hubfs::hubs::onnx::ReadModelSummary(bytes);
  (void)summary;
  return 0;
}
