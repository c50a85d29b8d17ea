// `hubfs ls` and `hubfs search`: the configured hubs' models, from their (cached) indexes, without
// a mount. Indexes are read like the mount reads them: through the metadata cache of cache_dir
// (a copy younger than metadata_ttl is used without a request; an older one is revalidated; a
// server that fails falls back to the copy, with a note on stderr) and, for git-listed hubs,
// their mirror below cache_dir (fetched only when older than metadata_ttl).
#include <ostream>
#include <string>
#include <vector>

#include "hub_browse.h"
#include "hubfs/app/commands.h"
#include "hubfs/app/config.h"
#include "model_filter.h"
#include "model_table.h"

namespace hubfs::app {
namespace {

// Exit statuses.
constexpr int kOk = 0, kFailed = 1, kUsage = 2;

// Shared by ls and search: `target` is "" (every hub) or HUB[/PATH].
int Browse(const std::string& cmd, const BrowseArgs& args, ModelFilter filter, std::ostream& out, std::ostream& err) {
  // Stale copies and failures are reported below, once per hub.
  QuietHubLogs();
  auto config = LoadConfig(args.config_path);
  if (!config) {
    err << cmd << ": " << config.error().message() << "\n";
    return kFailed;
  }
  std::string hub_name, path;
  if (!args.target.empty()) {
    const size_t slash = args.target.find('/');
    hub_name = args.target.substr(0, slash);
    if (slash != std::string::npos) {
      for (const std::string& part : SplitPath(args.target.substr(slash + 1))) path += (path.empty() ? "" : "/") + part;
    }
  }
  std::vector<const HubConfig*> selected;
  for (const HubConfig& h : config->hubs) {
    if (hub_name.empty() || h.name == hub_name) selected.push_back(&h);
  }
  if (selected.empty()) {
    err << cmd << ": no hub named '" << hub_name << "' (configured in " << config->source
        << ": " << HubNames(*config) << ")\n";
    return kUsage;
  }
  OpenCaches caches;  // outlives the readers
  HubReaders readers;
  std::string cache_note;
  if (Status s = OpenHubReaders(&*config, &caches, &readers, &cache_note); !s.ok()) {
    err << cmd << ": " << s.message() << "\n";
    return kFailed;
  }
  if (!cache_note.empty()) err << cmd << ": note: " << cache_note << "\n";
  filter.path = path;
  std::vector<ModelSummary> shown;
  bool failed = false;
  for (const HubConfig* hub : selected) {
    BrowsedHub browsed(*config, *hub, readers, cmd, err, /*say_failures=*/true);
    const HubModels* listed = &browsed.List();
    if (listed->listed && !path.empty()) {
      // A name the listing lacks may still open (a Hugging Face repository nobody configured).
      auto revealed = browsed.Reveal(SplitPath(path));
      listed = &browsed.models();
      if (!revealed) {
        err << cmd << ": hub " << hub->name << ": " << revealed.error().message() << "\n";
        return kFailed;
      }
      if (listed->listed && !*revealed) {
        err << cmd << ": " << hub->name << "/" << path << ": no such folder or file in hub '" << hub->name << "'\n";
        return kUsage;
      }
    }
    failed = failed || !listed->listed || !listed->summaries.failures.empty();
    if (!listed->listed) continue;
    std::vector<ModelSummary> selected_models = Select(filter, listed->summaries.models);
    AddLearnedSizes(listed->listing, *readers.cache, &selected_models);
    for (ModelSummary& m : selected_models) {
      if (std::string note = GatedNote(*hub, m); !note.empty()) err << cmd << ": " << note << "\n";
      shown.push_back(std::move(m));
    }
    if (hub->type == "hf" && !hub_name.empty() && path.empty() && listed->summaries.models.empty() &&
        listed->summaries.failures.empty()) {
      // `hubfs ls hf` and nothing: the Hub has far too many repositories to list them all.
      err << cmd << ": note: hub " << hub->name << " lists the repositories of its repos = [...] only; name "
          << "another one: hubfs ls " << hub->name << "/ORG/NAME\n";
    }
  }
  out << (args.json ? FormatJson(shown) : FormatTable(shown));
  return failed ? kFailed : kOk;
}

}  // namespace

int RunLs(const BrowseArgs& args, std::ostream& out, std::ostream& err) {
  ModelFilter filter;
  filter.tags = args.tags;
  filter.framework = args.framework;
  return Browse("hubfs ls", args, filter, out, err);
}

int RunSearch(const BrowseArgs& args, std::ostream& out, std::ostream& err) {
  ModelFilter filter;
  filter.tags = args.tags;
  filter.framework = args.framework;
  filter.name_contains = args.text;
  return Browse("hubfs search", args, filter, out, err);
}

}  // namespace hubfs::app
