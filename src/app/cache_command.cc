// `hubfs cache stats|verify|gc|clear`: the cache folder opened directly, like `hubfs pin` does
// (LMDB is multi-process, so running daemons keep working and see the changes at once). The
// mechanisms are in src/cache/cache_admin.cc; this file parses, prints and sets exit codes.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cache_stats.h"
#include "hubfs/app/commands.h"
#include "hubfs/app/config.h"
#include "hubfs/cache/cache.h"
#include "hubfs/core/logging.h"
#include "mount_table.h"

namespace hubfs::app {
namespace {

constexpr int kOk = 0, kBad = 1, kError = 2;

bool IndexExists(const std::string& dir) {
  struct stat st {};
  return ::stat((dir + "/index/data.mdb").c_str(), &st) == 0;
}

std::string LimitSource(const Config& config) {
  std::string value = config.cache_size.percent != 0 ? std::to_string(config.cache_size.percent) + "% of the disk"
                                                     : HumanBytes(config.cache_size.bytes);
  return "cache_size " + value + ", from " + config.source;
}

int Stats(const CacheArgs& args, const Config& config, const std::string& dir, cache::Cache& cache,
          std::ostream& out, std::ostream& err) {
  auto summary = cache.Summarize();
  if (!summary) {
    err << "hubfs cache stats: " << summary.error().message() << "\n";
    return kError;
  }
  StatsInput in;
  in.cache_dir = dir;
  in.limit = ResolveCacheSize(config.cache_size, dir);
  in.limit_source = LimitSource(config);
  in.summary = &*summary;
  in.prefixes = HubPrefixes(config);
  if (args.json) {
    PrintStatsJson(in, out);
  } else {
    PrintStatsText(in, out);
  }
  return kOk;
}

// "\r<line>" on a terminal, at most 5 times a second; nothing otherwise.
class Progress {
 public:
  explicit Progress(std::ostream& err) : err_(err), tty_(::isatty(STDERR_FILENO) == 1) {}
  void Show(uint64_t done, uint64_t total) {
    if (!tty_ || (shown_ && done == last_done_)) return;
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    last_done_ = done;
    err_ << "\rverifying: " << HumanBytes(done) << " of " << HumanBytes(total) << " ("
         << (total ? done * 100 / total : 100) << "%)\033[K" << std::flush;
    shown_ = true;
  }
  void Done() {
    if (shown_) err_ << "\r\033[K" << std::flush;
  }

 private:
  std::ostream& err_;
  bool tty_;
  bool shown_ = false;
  uint64_t last_done_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

int Verify(const CacheArgs& args, cache::Cache& cache, std::ostream& out, std::ostream& err) {
  Progress progress(err);
  cache::VerifyOptions options;
  options.fix = args.fix;
  options.progress = [&](uint64_t done, uint64_t total) { progress.Show(done, total); };
  auto report = cache.Verify(options);
  progress.Done();
  if (!report) {
    err << "hubfs cache verify: " << report.error().message() << "\n";
    return kError;
  }
  size_t removed = 0;
  for (const cache::BadBlob& bad : report->bad) {
    out << "bad: " << (bad.source_url.empty() ? bad.key : bad.source_url) << "\n"
        << "  blob:    " << bad.key << "\n"
        << "  file:    " << bad.path << "\n"
        << "  problem: " << bad.problem << "\n";
    if (bad.removed) {
      out << "  removed: the next read downloads it again\n";
      ++removed;
    } else if (bad.in_use) {
      out << "  kept: open in a running hubfs; close it (or unmount) and run verify --fix again\n";
    } else {
      out << "  kept: run hubfs cache verify --fix to remove it\n";
    }
  }
  out << "checked " << Plural(report->blobs, "blob", "blobs") << ": " << Plural(report->blocks, "block", "blocks")
      << " (" << HumanBytes(report->bytes) << ") re-read, whole-file sha256 of "
      << Plural(report->hashed_blobs, "verified blob", "verified blobs") << " recomputed; "
      << report->bad.size() << " bad";
  if (args.fix) out << ", " << removed << " removed";
  out << "\n";
  return report->bad.empty() ? kOk : kBad;
}

int Gc(const CacheArgs& args, const Config& config, const std::string& dir, cache::Cache& cache,
       std::ostream& out, std::ostream& err) {
  SizeSpec spec = config.cache_size;
  if (!args.to.empty()) {
    auto parsed = ParseSize(args.to);
    if (!parsed) {
      err << "hubfs cache gc: --to " << args.to << ": use e.g. 20G, 512M or 50%\n";
      return kError;
    }
    spec = *parsed;
  }
  const uint64_t target = ResolveCacheSize(spec, dir);
  auto report = cache.ShrinkTo(target);
  if (!report) {
    err << "hubfs cache gc: " << report.error().message() << "\n";
    return kError;
  }
  for (const cache::EvictedBlob& e : report->evicted) {
    out << "evicted " << HumanBytes(e.bytes) << "  " << (e.source_url.empty() ? e.key : e.source_url) << "\n";
  }
  const uint64_t freed = report->used_before > report->used_after ? report->used_before - report->used_after : 0;
  out << "freed " << HumanBytes(freed) << " (" << Plural(report->evicted.size(), "blob", "blobs") << "): " << HumanBytes(report->used_before)
      << " -> " << HumanBytes(report->used_after) << ", target " << HumanBytes(target) << "\n";
  if (report->used_after > target) {
    out << "the target was not reached: the rest is pinned or open in a running hubfs\n";
    return kBad;
  }
  return kOk;
}

int Clear(const CacheArgs& args, const std::string& dir, cache::Cache& cache, std::ostream& out,
          std::ostream& err) {
  auto report = cache.Clear(args.force);
  if (!report) {
    if (!(report.error().code() == Code::kFailedPrecondition)) {
      err << "hubfs cache clear: " << report.error().message() << "\n";
      return kError;
    }
    err << "hubfs cache clear: " << report.error().message();
    auto mounts = MountPointsOfType("fuse.hubfs");
    if (!mounts.empty()) {
      err << " (hubfs mounts:";
      for (const auto& m : mounts) err << " " << m;
      err << ")";
    }
    err << "; unmount first, or use --force to remove everything no process has open\n";
    return kBad;
  }
  out << "cleared " << dir << ": " << Plural(report->removed_blobs, "blob", "blobs") << " ("
      << HumanBytes(report->removed_bytes) << ") and "
      << Plural(report->documents_removed, "document record", "document records") << " removed\n";
  out << "  documents, sizes and trust records went too: manifests are fetched again, and files without a "
         "published sha256 are trusted anew on their next download\n";
  if (report->pins_kept > 0) out << "  " << Plural(report->pins_kept, "pin", "pins") << " kept (with no bytes)\n";
  if (report->kept_open_blobs > 0) {
    out << "  " << Plural(report->kept_open_blobs, "blob", "blobs") << " (" << HumanBytes(report->kept_open_bytes)
        << ") kept: open in a running hubfs\n";
  }
  return kOk;
}

}  // namespace

CLI::App* AddCacheCommand(CLI::App& app, CacheArgs& args) {
  CLI::App* cmd = app.add_subcommand("cache", "Inspect and maintain the block cache: stats, verify, gc, clear");
  cmd->require_subcommand(1);
  cmd->footer(
      "Each subcommand opens the cache folder directly (--cache-dir, else cache_dir from the\n"
      "configuration); running mounts keep working. Run it as the daemon's user.");
  auto common = [&args](CLI::App* sub) {
    sub->add_option("--cache-dir", args.cache_dir,
                    "Cache folder (default: cache_dir from the configuration, else $XDG_CACHE_HOME/hubfs "
                    "or ~/.cache/hubfs)");
    sub->add_option("--config,-c", args.config_path,
                    "Configuration file (default: ~/.config/hubfs/config.toml, then /etc/hubfs/config.toml)");
    sub->callback([&args, sub] { args.action = sub->get_name(); });
  };
  CLI::App* stats = cmd->add_subcommand("stats", "What the cache holds: bytes, blobs, bytes per hub, biggest blobs");
  common(stats);
  stats->add_flag("--json", args.json, "Print one JSON object instead of text");
  stats->footer("Bytes are those of blocks stored on disk; the limit is cache_size from the configuration.");

  CLI::App* verify = cmd->add_subcommand("verify", "Re-read every cached block and check its digest; report bad blobs");
  common(verify);
  verify->add_flag("--fix", args.fix, "Remove bad blobs that no process has open (pins are kept)");
  verify->footer(
      "Checks each present block against its recorded XXH3-128, and for verified blobs with every\n"
      "block cached recomputes the whole-file sha256. Poisoned blobs and blobs whose file vanished\n"
      "are bad too. Exit status: 0 all good, 1 something was bad (also with --fix), 2 error.");

  CLI::App* gc = cmd->add_subcommand("gc", "Evict least recently used blobs until the cache fits its limit");
  common(gc);
  gc->add_option("--to", args.to, "Target size instead of cache_size: 20G, 512M, 50% (of the cache's disk)");
  gc->footer(
      "Pinned blobs and blobs open in a running hubfs are never evicted. Exit status: 0 the target\n"
      "was reached, 1 what is left is pinned or open, 2 error.");

  CLI::App* clear = cmd->add_subcommand("clear", "Empty the cache: every blob, document and trust record");
  common(clear);
  clear->add_flag("--force", args.force,
                  "Clear even while a hubfs process uses the cache (blobs open there are kept)");
  clear->footer(
      "Refuses (exit 1) while another hubfs process has the cache open, such as a mount. Pins\n"
      "are kept, without bytes. Trust records go too: files without a published sha256 are\n"
      "trusted anew on their next download.");
  return cmd;
}

int RunCache(const CacheArgs& args, std::ostream& out, std::ostream& err) {
  log::SetLevel(log::Level::kWarn);  // eviction's info lines would repeat what we print
  auto config = LoadConfig(args.config_path);
  if (!config) {
    err << "hubfs cache " << args.action << ": " << config.error().message() << "\n";
    return kError;
  }
  const std::string dir = args.cache_dir.empty() ? config->cache_dir : args.cache_dir;
  if (!IndexExists(dir)) {
    if (args.action == "stats" && args.json) {
      out << nlohmann::json{{"cache_dir", dir}, {"exists", false}}.dump(2) << "\n";
    } else {
      out << "no cache at " << dir << " (nothing was cached there yet)\n";
    }
    return kOk;
  }
  auto cache = cache::Cache::Open(dir);
  if (!cache) {
    err << "hubfs cache " << args.action << ": opening the cache " << dir << ": " << cache.error().message() << "\n";
    return kError;
  }
  if (args.action == "stats") return Stats(args, *config, dir, **cache, out, err);
  if (args.action == "verify") return Verify(args, **cache, out, err);
  if (args.action == "gc") return Gc(args, *config, dir, **cache, out, err);
  if (args.action == "clear") return Clear(args, dir, **cache, out, err);
  err << "hubfs cache: unknown subcommand " << args.action << "\n";
  return kError;
}

}  // namespace hubfs::app
