// hubfs publish --format digits: DIR holds one folder per model; writes DIR/master.json and an
// info.json for folders without one (never overwriting one).
#include <algorithm>

#include "app/publish.h"
#include "hubfs/core/names.h"
#include "hubfs/hubs/digits/digits_store_writer.h"

namespace hubfs::app::publish {

namespace fs = std::filesystem;

int PublishDigits(const fs::path& dir, std::ostream& out, std::ostream& err) {
  std::vector<std::string> children;
  size_t skipped = 0;
  std::error_code ec;
  std::vector<fs::path> folders;
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] != '.' && it->is_directory(ec)) folders.push_back(it->path());
  }
  std::sort(folders.begin(), folders.end());
  for (const fs::path& folder : folders) {
    const std::string name = folder.filename().string();
    if (!IsPlainUrlName(name)) {
      ++skipped;
      err << "skipped " << name << "/: name has characters a URL cannot carry verbatim\n";
      continue;
    }
    std::vector<std::string> files;
    for (fs::directory_iterator f(folder, ec); !ec && f != fs::directory_iterator(); f.increment(ec)) {
      if (f->is_regular_file(ec)) files.push_back(f->path().filename().string());
    }
    std::sort(files.begin(), files.end());
    if (fs::exists(folder / "info.json", ec)) {
      err << "ok      " << name << "/ (info.json kept, " << files.size() << " files)\n";
      children.push_back(name);
      continue;
    }
    auto info = hubs::digits::GuessInfoJson(name, files);
    if (!info) {
      ++skipped;
      err << "skipped " << name << "/: " << info.error().message() << "; write its info.json\n";
      continue;
    }
    if (Status s = WriteFileAtomically(folder / "info.json", *info); !s.ok()) {
      ++skipped;
      err << "skipped " << name << "/: " << s.message() << "\n";
      continue;
    }
    err << "ok      " << name << "/ (info.json written, " << files.size() << " files)\n";
    children.push_back(name);
  }
  const fs::path master = dir / "master.json";
  const std::string msg = "Model store " + fs::absolute(dir).lexically_normal().filename().string();
  if (Status s = WriteFileAtomically(master, hubs::digits::WriteMasterJson(msg, children)); !s.ok()) {
    err << "hubfs publish: " << s.message() << "\n";
    return 1;
  }
  out << "wrote " << master.string() << ": " << children.size()
      << (children.size() == 1 ? " model" : " models");
  if (skipped > 0) out << ", " << skipped << " skipped";
  out << "\nserve it: DIR as the store's base URL (nginx 'root DIR'); DIGITS_MODEL_STORE_URL or a\n"
      << "digits hub's urls = [\"http://host/\"]\n";
  return skipped == 0 ? 0 : 1;
}

}  // namespace hubfs::app::publish
