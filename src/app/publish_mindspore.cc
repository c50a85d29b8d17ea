// hubfs publish --format mindspore: DIR holds <version>/<model>/ folders with weights; writes
// DIR/mshub_res/assets/mindspore/<version>/<model>.md per model (never overwriting one), with
// asset-link = <base-url>/<version>/<model>/<file>. With --git, makes DIR a git repository whose
// commits hold only mshub_res/ (the weights are served over HTTP, not from git).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "app/publish.h"
#include "hubfs/hubs/mindspore/mindspore_markdown_writer.h"

namespace hubfs::app::publish {
namespace {

namespace fs = std::filesystem;
namespace ms = hubfs::hubs::mindspore;

std::vector<fs::path> Subfolders(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] != '.' && name != "mshub_res" && it->is_directory(ec)) {
      out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Today() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  return std::to_string(tm.tm_year + 1900) + "-" + std::to_string(tm.tm_mon + 1) + "-" +
         std::to_string(tm.tm_mday);
}

// Runs a program (no shell) in `cwd`; returns its exit status, -1 when it could not run.
int Run(const fs::path& cwd, std::vector<std::string> argv) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (::chdir(cwd.c_str()) != 0) ::_exit(127);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Status CommitWithGit(const fs::path& dir, std::ostream& err) {
  std::error_code ec;
  if (!fs::exists(dir / ".gitignore", ec)) {
    HUBFS_RETURN_IF_ERROR(WriteFileAtomically(dir / ".gitignore", "/*\n!/.gitignore\n!/mshub_res/\n"));
  }
  if (!fs::exists(dir / ".git", ec) && Run(dir, {"git", "init", "-q", "-b", "master"}) != 0) {
    return Status::IoError("git init failed");
  }
  if (Run(dir, {"git", "add", "-A", "."}) != 0) return Status::IoError("git add failed");
  if (Run(dir, {"git", "diff", "--cached", "--quiet"}) == 0) {
    err << "git: nothing new to commit\n";
    return Status::Ok();
  }
  // The user's identity when git has one, else a neutral one.
  std::vector<std::string> commit = {"git"};
  if (Run(dir, {"git", "config", "user.email"}) != 0) {
    commit.insert(commit.end(), {"-c", "user.name=hubfs publish", "-c", "user.email=hubfs@localhost"});
  }
  commit.insert(commit.end(), {"commit", "-q", "-m", "hubfs publish: MindSpore Hub asset files"});
  if (Run(dir, commit) != 0) return Status::IoError("git commit failed");
  return Status::Ok();
}

}  // namespace

int PublishMindspore(const fs::path& dir, const std::string& base_url_in, bool git,
                     std::ostream& out, std::ostream& err) {
  std::string base_url = base_url_in;
  while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
  if (!(base_url.starts_with("http://") || base_url.starts_with("https://")) ||
      base_url.find_first_of(" <>\"") != std::string::npos) {
    err << "hubfs publish: --format mindspore needs --base-url http(s)://host/path, the URL DIR is "
           "served at (asset-link = <base-url>/<version>/<model>/<file>)\n";
    return 2;
  }
  size_t written = 0, kept = 0, skipped = 0;
  for (const fs::path& version_dir : Subfolders(dir)) {
    const std::string version = version_dir.filename().string();
    for (const fs::path& model_dir : Subfolders(version_dir)) {
      const std::string model = model_dir.filename().string();
      const std::string where = version + "/" + model + "/";
      if (!IsPlainUrlName(version) || !IsPlainUrlName(model)) {
        ++skipped;
        err << "skipped " << where << ": name has characters a URL cannot carry verbatim\n";
        continue;
      }
      const fs::path md_dir = dir / "mshub_res" / "assets" / "mindspore" / version;
      const fs::path md = md_dir / (model + ".md");
      std::error_code ec;
      if (fs::exists(md, ec)) {
        ++kept;
        err << "kept    " << RelativePath(dir, md) << " (exists; delete it to regenerate)\n";
        continue;
      }
      ms::PublishedAssetFile file{model, version, base_url + "/", Today(), {}};
      std::vector<fs::path> weights;
      for (fs::directory_iterator f(model_dir, ec); !ec && f != fs::directory_iterator(); f.increment(ec)) {
        const std::string name = f->path().filename().string();
        if (f->is_regular_file(ec) && !ms::FileFormatOf(name).empty()) weights.push_back(f->path());
      }
      std::sort(weights.begin(), weights.end());
      bool failed = false;
      for (const fs::path& w : weights) {
        const std::string name = w.filename().string();
        auto hashed = IsPlainUrlName(name) ? HashFile(w)
                                           : Result<Hashed>(Status::InvalidArgument("name has characters a URL cannot carry verbatim"));
        if (!hashed) {
          err << "skipped " << where << name << ": " << hashed.error().message() << "\n";
          failed = true;
          continue;
        }
        err << "hashed  " << where << name << " (" << hashed->bytes << " bytes)\n";
        file.assets.push_back({ms::FileFormatOf(name), base_url + "/" + where + name, hashed->sha256});
      }
      if (failed) ++skipped;
      if (file.assets.empty()) {
        if (!failed) ++skipped;
        err << "skipped " << where << ": no weights (.ckpt, .mindir, .air, .onnx, .ms)\n";
        continue;
      }
      fs::create_directories(md_dir, ec);
      if (Status s = WriteFileAtomically(md, ms::WriteAssetMarkdown(file)); !s.ok()) {
        ++skipped;
        err << "skipped " << where << ": " << s.message() << "\n";
        continue;
      }
      ++written;
      err << "wrote   " << RelativePath(dir, md) << "\n";
    }
  }
  out << "wrote " << written << " asset file" << (written == 1 ? "" : "s") << " below "
      << (dir / "mshub_res" / "assets" / "mindspore").string();
  if (kept > 0) out << ", kept " << kept;
  if (skipped > 0) out << ", " << skipped << " skipped";
  out << "\nedit the placeholders marked edit-me, then check with: hubfs validate "
      << (dir / "mshub_res").string() << "\n";
  if (git) {
    if (Status s = CommitWithGit(dir, err); !s.ok()) {
      err << "hubfs publish: " << s.message() << "\n";
      return 1;
    }
    out << "committed to the git repository " << dir.string()
        << " (a mindspore hub's git_url can name it)\n";
  } else {
    out << "a mindspore hub lists a git repository: commit DIR (only mshub_res/) or use --git\n";
  }
  return skipped == 0 ? 0 : 1;
}

}  // namespace hubfs::app::publish
