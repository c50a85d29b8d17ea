#include "hubfs/hubs/mindspore/mindspore_markdown_writer.h"

namespace hubfs::hubs::mindspore {

std::string WriteAssetMarkdown(const PublishedAssetFile& f) {
  std::string md;
  md += "# " + f.model + "\n\n---\n\n";
  auto field = [&md](std::string_view key, std::string_view value) {
    md.append(key).append(": ").append(value).append("\n\n");
  };
  field("model-name", f.model);
  field("backbone-name", f.model);
  field("module-type", "other");
  field("fine-tunable", "False");
  field("model-version", f.version);
  field("author", "edit-me");
  field("update-time", f.update_time);
  field("repo-link", "<" + f.repo_link + ">");
  field("user-id", "edit-me");
  field("used-for", "inference");
  field("mindspore-version", f.version);
  if (!f.assets.empty()) {
    md += "asset:\n";
    for (const PublishedAsset& a : f.assets) {
      md += "-\n";
      md += "    file-format: " + a.file_format + "\n";
      md += "    asset-link: <" + a.url + ">\n";
      md += "    asset-sha256: " + ToHex(a.sha256) + "\n";
    }
    md += "\n";
  }
  field("license", "edit-me");
  field("summary", f.model + " (edit-me)");
  md += "---\n\n";
  md += "## Introduction\n\n";
  md += "Published by hubfs publish. Edit the fields marked edit-me (author, user-id, license,\n";
  md += "summary) and module-type, fine-tunable and repo-link, then describe the model here.\n";
  return md;
}

std::string FileFormatOf(std::string_view name) {
  struct Ext {
    std::string_view ext;
    const char* format;
  };
  static constexpr Ext kExts[] = {{".ckpt", "ckpt"}, {".mindir", "mindir"}, {".air", "air"},
                                  {".onnx", "onnx"}, {".ms", "mslite"}};
  for (const Ext& e : kExts) {
    if (name.size() > e.ext.size() && name.ends_with(e.ext)) return e.format;
  }
  return "";
}

}  // namespace hubfs::hubs::mindspore
