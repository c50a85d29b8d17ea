// Fuzz target: HTML directory listings of DIGITS stores (hubs/digits, libxml2's HTML parser).
// Any input must give a listing or an error, never a crash, a hang or a sanitizer report, and
// every folder found must be a safe name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hubfs/core/names.h"
#include "hubfs/hubs/digits/digits_html_listing.h"
#include "hubfs/hubs/digits/digits_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto listing = hubfs::hubs::digits::ParseHtmlListing(text); listing.ok()) {
    for (const auto& folder : listing->folders) {
      if (!hubfs::IsSafeName(folder)) __builtin_trap();
    }
  }
  // The same bytes as a DIGITS_MODEL_STORE_URL value and as a store URL to name.
  auto urls = hubfs::hubs::digits::ParseStoreUrlList(text.substr(0, 4096));
  (void)urls;
  if (!hubfs::IsSafeName(hubfs::hubs::digits::DeriveStoreName(text.substr(0, 4096)))) {
    __builtin_trap();
  }
  return 0;
}
