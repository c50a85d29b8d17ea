// Fuzz target: what hubfs reads from a Hugging Face Hub server (hubs/hf/hf_api.h): a tree listing
// page, repo info, the Link pagination header, ETags, repo folder names and repo specs. Any input
// must give a value or an error, never a crash, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hubfs/hubs/hf/hf_api.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace hf = hubfs::hubs::hf;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)hf::ParseTreePage(text);
  (void)hf::ParseRepoInfoCommit(text);
  (void)hf::NextLink(text);
  (void)hf::NormalizeEtag(text);
  const std::string_view line = text.substr(0, 512);
  if (auto folder = hf::ParseRepoFolder(line)) {
    // A parsed folder name must round-trip.
    auto again = hf::ParseRepoFolder(hf::RepoFolderName(folder->name, folder->revision));
    if (!again || again->name != folder->name || again->revision != folder->revision) __builtin_trap();
  }
  (void)hf::ParseRepoSpec(line);
  (void)hf::PercentEncode(line, size % 2 == 0);
  return 0;
}
