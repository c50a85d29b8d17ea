// Fuzz target: MindSpore Hub asset markdown (hubs/mindspore): front matter split, YAML, the
// validator and the layout of one file. Any input must give a result or an error, never a
// crash, a hang or a sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "hubfs/hubs/mindspore/mindspore_layout.h"
#include "hubfs/hubs/mindspore/mindspore_markdown.h"
#include "hubfs/hubs/mindspore/mindspore_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace ms = hubfs::hubs::mindspore;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto problems = ms::ValidateAssetText(text);
  (void)problems;
  auto parsed = ms::ParseAssetMarkdown(text);
  if (parsed) {
    ms::ModelFile file;
    file.path.publisher = ms::kShownPublisher;
    file.path.version = "1.10";
    file.path.file_name = "fuzz.md";
    file.path.model = "fuzz";
    file.branch = "master";
    file.text = std::string(text);
    file.markdown = std::move(parsed).value();
    auto layout = ms::BuildLayout({file});
    (void)layout;
  }
  // The first line doubles as a repository path.
  auto path = ms::ParseAssetPath(text.substr(0, text.find('\n')).substr(0, 512));
  (void)path;
  return 0;
}
