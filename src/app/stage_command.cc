// `hubfs stage PATH... [--to DIR] [--jobs N]`: copies models out of a mount into a staging folder
// laid out as the Model Hub Zoo proposal stages them, <DIR>/<framework>/<original name>, the
// names being those of the mount's /by-framework/ view (docs/staging.md). Files are read through
// the mount, so the download takes the same path as any reader's (cache, verification), then
// copied (stage_copy.h says why a copy). A file staged already (same size and sha256) is skipped,
// which makes an interrupted stage resumable by running it again.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "hubfs/app/commands.h"
#include "hubfs/app/config.h"
#include "interruptible_workers.h"
#include "prefetch_progress.h"
#include "stage_copy.h"
#include "stage_plan.h"
#include "xattr.h"

namespace hubfs::app {
namespace {


// Shared by the workers and the main thread.
struct Run {
  std::string dir;  // the staging folder, absolute
  const std::vector<StageFile>* files = nullptr;
  PrefetchProgress* progress = nullptr;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> sources;  // per slot: the file being staged ("" when idle); guarded by mu
  std::vector<std::string> temps;    // per slot: its temporary file; guarded by mu
};

std::string SourceSha256(const std::string& path) {
  auto sha = ReadXattr(path, "user.hubfs.sha256");
  return sha ? *sha : "";
}

// What the mount recorded about the last error reading `source` (its /.hubfs/errors), from the
// error kind on: the reason behind an EIO. "" when none.
std::string MountReason(const StageFile& file) {
  std::ifstream in(file.mount + "/.hubfs/errors");
  const std::string path = " " + file.source.substr(std::min(file.mount.size(), file.source.size()));
  std::string line, found;
  while (std::getline(in, line)) {
    size_t at = line.find(path + " (");
    size_t reason = at == std::string::npos ? std::string::npos : line.find("): ", at + path.size());
    if (reason != std::string::npos) {
      found = line.substr(reason + 3);
      continue;
    }
    at = line.find(path + ": ");
    if (at != std::string::npos) found = line.substr(at + path.size() + 2);
  }
  return found;
}

std::string ReasonFor(const Status& status, const StageFile& file) {
  std::string reason = status.message();
  if (reason.starts_with(file.source + ": ")) reason.erase(0, file.source.size() + 2);  // the line names it
  if (reason.ends_with(std::strerror(EIO))) {
    const std::string why = MountReason(file);
    reason += why.empty() ? " (see the daemon's log)" : " (" + why + ")";
  }
  return reason;
}

void StageOne(const StageFile& file, size_t slot, Run* run) {
  PrefetchProgress& progress = *run->progress;
  const std::string dest = run->dir + "/" + file.target;
  const std::string temp = std::filesystem::path(dest).parent_path().string() +
                           fmt::format("/.hubfs-stage.{}.{}", ::getpid(), slot);
  progress.Started(slot, file.shown + " -> " + dest, file.size);
  {
    std::lock_guard lock(run->mu);
    run->sources[slot] = file.source;
    run->temps[slot] = temp;
  }
  StageCopyRequest request;
  request.source = file.source;
  request.dest = dest;
  request.temp = temp;
  request.sha256 = [&] { return SourceSha256(file.source); };
  request.progress = [&](uint64_t bytes) { progress.Advanced(slot, bytes); };
  request.stop = &run->stop;
  auto outcome = StageCopy(request);
  {
    std::lock_guard lock(run->mu);
    run->sources[slot].clear();
    run->temps[slot].clear();
  }
  if (!outcome && outcome.error().code() == Code::kCancelled) return;
  if (!outcome) {
    progress.Finished(slot, FileOutcome::kFailed, ReasonFor(outcome.error(), file));
  } else {
    progress.Finished(slot, *outcome == StageOutcome::kCopied ? FileOutcome::kFetched : FileOutcome::kSkipped);
  }
}

void Worker(size_t slot, Run* run) {
  while (!run->stop.load()) {
    size_t i = run->next.fetch_add(1);
    if (i >= run->files->size()) break;
    StageOne((*run->files)[i], slot, run);
  }
}

// Moves the in-flight files' progress by how much of them the cache holds: a strictly verified
// file returns its first byte only once it is whole, so the copy alone would not move.
void PollCached(Run* run) {
  std::vector<std::string> sources;
  {
    std::lock_guard lock(run->mu);
    sources = run->sources;
  }
  for (size_t slot = 0; slot < sources.size(); ++slot) {
    if (sources[slot].empty()) continue;
    if (auto bytes = ReadXattr(sources[slot], "user.hubfs.cached_bytes")) {
      run->progress->Advanced(slot, std::strtoull(bytes->c_str(), nullptr, 10));
    }
  }
}

// The staging folder: --to, else the configuration's staging_dir (itself MODELHUB_PATH, else
// ~/.modelhub), created when missing; absolute.
Result<std::string> StagingDir(const StageArgs& args) {
  std::string dir = args.to;
  if (dir.empty()) {
    HUBFS_ASSIGN_OR_RETURN(Config config, LoadConfig(args.config_path));
    dir = config.staging_dir;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("creating the staging folder " + dir + ": " + ec.message());
  auto absolute = std::filesystem::canonical(dir, ec);
  if (ec) return Status::IoError("the staging folder " + dir + ": " + ec.message());
  if (!std::filesystem::is_directory(absolute)) return Status::InvalidArgument(dir + " is not a folder");
  return absolute.string();
}

}  // namespace

int RunStage(const StageArgs& args) {
  auto plan = PlanStage(args.paths);
  if (!plan) {
    std::fprintf(stderr, "hubfs stage: %s\n", plan.error().message().c_str());
    return 2;
  }
  auto dir = StagingDir(args);
  if (!dir) {
    std::fprintf(stderr, "hubfs stage: %s\n", dir.error().message().c_str());
    return 2;
  }
  if (plan->not_models > 0) {
    std::fprintf(stderr, "hubfs stage: %zu file(s) that are no models (info.json, test data, ...) left out\n",
                 plan->not_models);
  }
  if (plan->files.empty() && plan->problems.empty()) {
    std::fprintf(stderr, "hubfs stage: nothing to stage (no model files)\n");
    return 0;
  }
  uint64_t total = 0;
  for (const StageFile& f : plan->files) total += f.size;
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  const size_t jobs = static_cast<size_t>(std::max(1, args.jobs));
  PrefetchProgress progress(stdout, tty, plan->files.size() + plan->problems.size(), total, jobs,
                            ProgressWords{"stage", "staged", "already staged"});
  for (const auto& [path, status] : plan->problems) progress.FailedOutsideSlot(path, status.message());

  // Workers stop after their current 1 MiB read and remove their temporary files; one blocked
  // past the grace time is abandoned, its temporary file removed for it.
  Run run;
  run.dir = *dir;
  run.files = &plan->files;
  run.progress = &progress;
  const size_t workers = std::min(jobs, std::max<size_t>(plan->files.size(), 1));
  run.sources.resize(workers);
  run.temps.resize(workers);
  WorkerHooks hooks;
  hooks.work = [&run](size_t slot) { Worker(slot, &run); };
  hooks.tick = [&] {
    if (tty) PollCached(&run);
    progress.Tick();
  };
  hooks.summary = [&](bool interrupted) { progress.Summary(interrupted); };
  hooks.abandon = [&run] {
    std::lock_guard lock(run.mu);
    for (const std::string& temp : run.temps) {
      if (!temp.empty()) ::unlink(temp.c_str());
    }
  };
  auto interrupted = RunInterruptibleWorkers(workers, run.stop, hooks);
  if (!interrupted) {
    std::fprintf(stderr, "hubfs stage: %s\n", interrupted.error().message().c_str());
    return 1;
  }
  if (*interrupted) return 130;
  return progress.failed() == 0 ? 0 : 1;
}

}  // namespace hubfs::app
