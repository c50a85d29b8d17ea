// Fuzz target: the JSON documents of a DIGITS store (hubs/digits): master.json, and the same bytes
// as info.json and aux.json, then the children as model names. Any input must give a result or an
// error, never a crash, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hubfs/core/names.h"
#include "hubfs/hubs/digits/digits_master.h"
#include "hubfs/hubs/digits/digits_model_info.h"
#include "hubfs/hubs/digits/digits_model_names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hubfs::hubs::digits;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto master = ParseMasterJson(text); master.ok()) {
    ModelNames names = SelectModelNames(master->children, 100);
    for (const auto& name : names.names) {
      if (!hubfs::IsSafeName(name)) __builtin_trap();
    }
  }
  for (auto* parse : {&ParseInfoJson, &ParseAuxJson}) {
    if (auto files = parse(text); files.ok()) {
      for (const auto& name : files->files) {
        if (!hubfs::IsSafeName(name)) __builtin_trap();
      }
    }
  }
  return 0;
}
