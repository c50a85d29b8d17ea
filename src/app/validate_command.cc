// hubfs validate FILE|DIR: the offline checks of the MindSpore Hub's md_validator
// (hubs/mindspore/mindspore_validator.h) on one asset file or every asset file below a folder.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "hubfs/app/commands.h"
#include "hubfs/hubs/mindspore/mindspore_markdown.h"  // kMaxMarkdownBytes
#include "hubfs/hubs/mindspore/mindspore_validator.h"

namespace hubfs::app {
namespace {

namespace fs = std::filesystem;
namespace ms = hubfs::hubs::mindspore;

struct Located {
  fs::path file;  // the file the line numbers refer to
  ms::Problem problem;
  std::string note;  // appended to the message
};

// Reads at most kMaxMarkdownBytes + 1 bytes, so an oversized file is reported, not loaded.
bool ReadBounded(const fs::path& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  text->assign(ms::kMaxMarkdownBytes + 1, '\0');
  in.read(text->data(), static_cast<std::streamsize>(text->size()));
  text->resize(static_cast<size_t>(in.gcount()));
  return !in.bad();
}

std::vector<ms::Problem> CheckText(const fs::path& path) {
  std::string text;
  if (!ReadBounded(path, &text)) return {{0, "cannot be read"}};
  return ms::ValidateAssetText(text);
}

// Like the official tool, a Chinese twin "x_cn.md" is judged by its English file "x.md" (its own
// front matter has Chinese keys and is never parsed; hubfs shows it as published).
std::vector<Located> CheckFile(const fs::path& path) {
  std::vector<Located> out;
  const std::string twin_name = ms::EnglishTwinName(path.filename().string());
  if (twin_name.empty()) {
    for (ms::Problem& p : CheckText(path)) out.push_back({path, std::move(p), ""});
    return out;
  }
  const fs::path twin = path.parent_path() / twin_name;
  std::error_code ec;
  if (!fs::is_regular_file(twin, ec)) {
    out.push_back({path, {0, "Chinese twin without its English file " + twin_name +
                                 " (the official tool checks it through that file)"}, ""});
  } else {
    for (ms::Problem& p : CheckText(twin)) {
      out.push_back({twin, std::move(p), " (checked for " + path.filename().string() + ")"});
    }
  }
  return out;
}

bool IsCheckedName(const fs::path& path) {
  const std::string name = path.filename().string();
  return path.extension() == ".md" && name != "README.md" && name != "README_CN.md";
}

}  // namespace

int RunValidate(const std::string& target, std::ostream& out, std::ostream& err) {
  std::error_code ec;
  const fs::path root(target);
  std::vector<fs::path> files;
  if (fs::is_directory(root, ec)) {
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && IsCheckedName(it->path())) files.push_back(it->path());
    }
    if (ec) {
      err << "hubfs validate: " << target << ": " << ec.message() << "\n";
      return 2;
    }
    std::sort(files.begin(), files.end());
  } else if (fs::is_regular_file(root, ec)) {
    files.push_back(root);
  } else {
    err << "hubfs validate: " << target << ": no such file or folder\n";
    return 2;
  }

  size_t failed = 0;
  for (const fs::path& file : files) {
    const std::vector<Located> problems = CheckFile(file);
    if (!problems.empty()) ++failed;
    for (const Located& p : problems) {
      out << p.file.string();
      if (p.problem.line > 0) out << ":" << p.problem.line;
      out << ": " << p.problem.message << p.note << "\n";
    }
  }
  out << files.size() << (files.size() == 1 ? " file" : " files") << " checked: "
      << files.size() - failed << " passed, " << failed << " failed"
      << " (links, train-dataset and featured-image are not checked offline)\n";
  return failed == 0 ? 0 : 1;
}

}  // namespace hubfs::app
