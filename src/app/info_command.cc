// `hubfs info PATH... [--json] [--config FILE]`: what hubfs knows about files and folders of a
// mount (path_info.h), or, for a path that is not in a mount, of a hub path HUB/PATH read from
// the hub's (cached) listing and the cache folder, as `hubfs ls` reads them. Exit status: 0; 1
// when a path could not be read (e.g. the daemon died, or the hub cannot be listed); 2 when a
// path is neither an existing path in a hubfs mount nor in a configured hub.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <ostream>

#include "hub_browse.h"
#include "hubfs/app/commands.h"
#include "hubfs/app/config.h"
#include "model_filter.h"
#include "mount_of.h"
#include "path_info.h"

namespace hubfs::app {
namespace {

constexpr int kFailed = 1, kUsage = 2;

// Hub paths: the configuration, the cache and each hub, loaded on first use.
class HubPaths {
 public:
  HubPaths(const std::string& config_path, OpenCaches* caches, std::ostream& err)
      : config_path_(config_path), caches_(caches), err_(err) {}

  // The configuration, or why it cannot be read.
  const Result<Config>& config() {
    if (!config_) {
      // This command reports only what concerns the path.
      QuietHubLogs();
      config_ = LoadConfig(config_path_);
    }
    return *config_;
  }

  // `hub` listed (problems and stale notes printed once), or nullptr when the readers cannot be
  // opened. The hub keeps what it discovers for later paths.
  BrowsedHub* Hub(const HubConfig& hub) {
    auto [it, fresh] = hubs_.try_emplace(hub.name);
    if (!fresh) return it->second.get();
    if (!readers_) {
      readers_ = std::make_unique<HubReaders>();
      std::string note;
      if (Status s = OpenHubReaders(&**config_, caches_, readers_.get(), &note); !s.ok()) {
        err_ << "hubfs info: " << s.message() << "\n";
        readers_failed_ = true;
      } else if (!note.empty()) {
        err_ << "hubfs info: note: " << note << "; what is cached is of that folder\n";
      }
    }
    if (readers_failed_) return nullptr;
    // Only the part that holds a path is reported (ShowHubPath), not every part that failed.
    it->second = std::make_unique<BrowsedHub>(**config_, hub, *readers_, "hubfs info", err_, /*say_failures=*/false);
    it->second->List();
    return it->second.get();
  }

  cache::Cache& cache() { return *readers_->cache; }

 private:
  std::string config_path_;
  OpenCaches* caches_;
  std::ostream& err_;
  std::optional<Result<Config>> config_;
  std::unique_ptr<HubReaders> readers_;
  bool readers_failed_ = false;
  std::map<std::string, std::unique_ptr<BrowsedHub>> hubs_;
};

struct Shown {
  int status = 0;
  std::optional<nlohmann::json> json;  // --json
};

// `path` as HUB/PATH, after it turned out not to be a path in a hubfs mount (`not_mounted`
// says why). Prints the info (text) or returns it (JSON).
Shown ShowHubPath(const std::string& path, const Status& not_mounted, HubPaths& hubs, bool json, bool first,
                  std::ostream& out, std::ostream& err) {
  const Result<Config>& config = hubs.config();
  if (!config) {
    err << "hubfs info: " << not_mounted.message() << "; and no hub path, as the configuration cannot be read: "
        << config.error().message() << "\n";
    return {kUsage, std::nullopt};
  }
  const std::string hubs_named = "(hubs in " + config->source + ": " + HubNames(*config) + ")";
  const std::vector<std::string> parts = SplitPath(path);
  const HubConfig* hub = path.empty() || path[0] == '/' || parts.empty() ? nullptr : FindHubConfig(*config, parts[0]);
  if (!hub) {
    err << "hubfs info: " << not_mounted.message() << ", nor a hub path HUB/PATH "
        << (path.empty() || path[0] == '/' || parts.empty() ? "" : "('" + parts[0] + "' is no hub) ") << hubs_named
        << "\n";
    return {kUsage, std::nullopt};
  }
  BrowsedHub* browsed = hubs.Hub(*hub);
  if (!browsed || !browsed->models().listed) return {kFailed, std::nullopt};  // the reason is printed
  const std::vector<std::string> below(parts.begin() + 1, parts.end());
  // A name the listing lacks may still open, as in a mount (a Hugging Face repository nobody
  // configured): GetHubPathInfo then says whether it is there.
  if (auto revealed = browsed->Reveal(below); !revealed) {
    err << "hubfs info: " << path << ": " << revealed.error().message() << "\n";
    return {kFailed, std::nullopt};
  }
  const HubModels& listed = browsed->models();
  if (!listed.listed) return {kFailed, std::nullopt};
  if (auto failure = FailureAbove(listed.listing, below)) {
    err << "hubfs info: " << path << ": " << *failure << " (nothing usable is cached)\n";
    return {kFailed, std::nullopt};
  }
  auto info = GetHubPathInfo(path, hub->name, config->source, below, listed.listing, hubs.cache());
  if (info) {
    ModelFilter in_path;
    for (const std::string& part : below) in_path.path += (in_path.path.empty() ? "" : "/") + part;
    for (const ModelSummary& m : Select(in_path, listed.summaries.models)) {
      if (std::string note = GatedNote(*hub, m); !note.empty()) err << "hubfs info: " << note << "\n";
    }
  }
  if (!info) {
    err << "hubfs info: " << info.error().message() << "\n";
    return {info.error().IsNotFound() ? kUsage : kFailed, std::nullopt};
  }
  if (const FileInfo* file = std::get_if<FileInfo>(&*info)) {
    if (json) return {0, FileInfoJson(*file)};
    if (!first) out << "\n";
    PrintFileInfo(*file, out);
  } else {
    const FolderInfo& folder = std::get<FolderInfo>(*info);
    if (json) return {0, FolderInfoJson(folder)};
    if (!first) out << "\n";
    PrintFolderInfo(folder, out);
  }
  return {};
}

}  // namespace

int RunInfo(const InfoArgs& args, std::ostream& out, std::ostream& err) {
  OpenCaches caches;  // outlives `hub_paths`, whose readers use one of them
  HubPaths hub_paths(args.config_path, &caches, err);
  nlohmann::json all = nlohmann::json::array();
  int status = 0;
  bool first = true;
  for (const std::string& path : args.paths) {
    auto mountpoint = HubfsMountOf(path);
    struct stat st {};
    if (mountpoint && ::stat(path.c_str(), &st) != 0) mountpoint = Status::FromErrno(errno, path);
    if (!mountpoint) {
      const Code code = mountpoint.error().code();
      if (code == Code::kNotFound || code == Code::kInvalidArgument) {
        // Not (an existing path) in a hubfs mount: perhaps HUB/PATH.
        Shown shown = ShowHubPath(path, mountpoint.error(), hub_paths, args.json, first, out, err);
        status = std::max(status, shown.status);
        if (shown.json) all.push_back(std::move(*shown.json));
        if (shown.status == 0) first = false;
        continue;
      }
      err << "hubfs info: " << mountpoint.error().message() << "\n";
      status = std::max(status, 1);
      continue;
    }
    nlohmann::json json;
    if (S_ISDIR(st.st_mode)) {
      auto info = GetFolderInfo(path, *mountpoint);
      if (!info) {
        err << "hubfs info: " << info.error().message() << "\n";
        status = std::max(status, 1);
        continue;
      }
      if (args.json) all.push_back(FolderInfoJson(*info));
      else {
        if (!first) out << "\n";
        PrintFolderInfo(*info, out);
      }
    } else {
      auto info = GetFileInfo(path, *mountpoint, &caches);
      if (!info) {
        err << "hubfs info: " << info.error().message() << "\n";
        status = std::max(status, 1);
        continue;
      }
      if (args.json) all.push_back(FileInfoJson(*info));
      else {
        if (!first) out << "\n";
        PrintFileInfo(*info, out);
      }
    }
    first = false;
  }
  // One path: its object; several: an array of the ones that could be read.
  if (args.json && !all.empty()) out << (args.paths.size() == 1 ? all[0] : all).dump(2) << "\n";
  return status;
}

}  // namespace hubfs::app
