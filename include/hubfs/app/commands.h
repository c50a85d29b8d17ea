// The hubfs subcommands. Each returns the process exit code and prints its own messages.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace hubfs::app {

struct MountArgs {
  std::string mountpoint;
  std::string config_path;  // empty: the default search (config.h)
  std::string cache_dir;    // overrides the configuration's
  std::vector<std::string> fuse_options;
  std::string cache_size;    // overrides cache_size, e.g. "20G"
  std::string verification;  // overrides verification for every hub: "strict" or "lazy"
  bool foreground = false;
  bool debug = false;
};

// Mounts and serves until unmounted. Without `foreground`, returns in the parent as soon as the
// mount is ready (0) or has failed (1, with the reason on stderr); the daemon keeps serving.
int RunMount(const MountArgs& args);

// Unmounts a hubfs mount point.
int RunUmount(const std::string& mountpoint);

// Pins (or unpins) the files at `paths`, which lie in a hubfs mount: pinned files are never
// evicted from the cache. Pinning does not download; `cat` or a future prefetch does.
int RunPin(const std::vector<std::string>& paths, bool pin);

struct PrefetchArgs {
  std::vector<std::string> paths;  // files or folders in hubfs mounts
  bool pin = false;                // pin every file before reading any
  int jobs = 2;                    // files read at a time
};

// Fills the cache with the files at or below `args.paths` by reading them through the mount;
// files already cached whole and verified are skipped. Progress on stdout: a redrawn line on a
// terminal, else one line per file. Returns 0 when every file is cached, 1 when one failed
// (reason printed), 2 for a path that does not exist or is not in a hubfs mount, 130 when
// interrupted (SIGINT, SIGTERM, SIGHUP).
int RunPrefetch(const PrefetchArgs& args);

struct StageArgs {
  std::vector<std::string> paths;  // files or folders in hubfs mounts
  std::string to;                  // the staging folder; "" = staging_dir of the configuration
  std::string config_path;         // for staging_dir; empty: the default search (config.h)
  int jobs = 2;                    // files copied at a time
};

// Copies the model files at or below `args.paths` to <staging folder>/<framework>/<name>, as the
// mount's /by-framework view names them (docs/staging.md), reading through the mount; files
// staged already (same size and sha256) are skipped. Progress on stdout as for prefetch. Returns
// 0 when every file is staged, 1 when one failed (reason printed), 2 for a path that does not
// exist or is not in a hubfs mount (or an unusable staging folder), 130 when interrupted.
int RunStage(const StageArgs& args);

// Asks running mounts (`mount`, or every hubfs mount when empty) to list `hubs` (every hub when
// empty) again now; returns 0 when all did, 1 when one failed, 2 when there is no such mount.
int RunRefresh(const std::vector<std::string>& hubs, const std::string& mount);

// Checks a MindSpore Hub asset file, or every asset .md below a folder (README.md and
// README_CN.md excepted), with the offline rules of the hub's md_validator. Prints
// "path:line: problem" lines and a summary to `out`. Returns 0 when every file passes, 1 when
// one fails, 2 when `path` does not exist (message on `err`).
int RunValidate(const std::string& path, std::ostream& out, std::ostream& err);

// `hubfs publish DIR --format onnx|digits|mindspore` (docs/cli.md): writes the index documents
// that make DIR, served by any static HTTP server, a hub. Progress per file on `err`, a summary on
// `out`. Returns 0 when everything was written, 1 when a file or folder was skipped (reason
// printed), 2 for usage errors (no such folder, bad format, mindspore without --base-url).
struct PublishArgs {
  std::string dir;
  std::string format;    // "onnx", "digits" or "mindspore"
  std::string base_url;  // mindspore: the URL DIR is served at (asset-link prefix)
  bool git = false;      // mindspore: git init/add/commit DIR (only mshub_res/ is tracked)
};
int RunPublish(const PublishArgs& args, std::ostream& out, std::ostream& err);

// `hubfs validate DIR --format onnx|digits`: re-reads what publish wrote with hubfs' parsers and
// re-hashes every file the documents name. 0 all match, 1 a mismatch (printed), 2 no such folder.
int RunPublishCheck(const std::string& dir, const std::string& format, std::ostream& out,
                    std::ostream& err);

// `hubfs ls` / `hubfs search`: the configured hubs' models from their (cached) indexes, without a
// mount (docs/cli.md). Exit status: 0, 1 when a hub or store could not be listed and nothing
// usable is cached (or the configuration is bad), 2 for an unknown hub or path.
struct BrowseArgs {
  std::string target;  // ls: HUB[/PATH]; "" for every hub
  std::string text;    // search: case-insensitive substring of model names
  std::vector<std::string> tags;  // any-match, case-insensitive
  std::string framework;          // "onnx", "caffe", "mindspore", ... case-insensitive
  bool json = false;
  std::string config_path;  // empty: the default search (config.h)
};
int RunLs(const BrowseArgs& args, std::ostream& out, std::ostream& err);
int RunSearch(const BrowseArgs& args, std::ostream& out, std::ostream& err);

// `hubfs config check [FILE]`: loads the configuration as `hubfs mount` would and prints
// "FILE: ok (N hubs: ...)" and the effective settings to `out` (0), or the error with file:line
// and key to `err` (1).
int RunConfigCheck(const std::string& path, std::ostream& out, std::ostream& err);

// `hubfs cache stats|verify|gc|clear` (docs/configuration.md): opens the cache folder directly.
struct CacheArgs {
  std::string action;       // "stats", "verify", "gc" or "clear" (set by the parser)
  std::string cache_dir;    // overrides the configuration's
  std::string config_path;  // empty: the default search (config.h)
  bool json = false;        // stats: JSON instead of text
  bool fix = false;         // verify: remove bad blobs that no process has open
  std::string to;           // gc: target size ("20G", "50%"); empty: cache_size
  bool force = false;       // clear: also while other hubfs processes use the cache
};
// Adds the `cache` subcommand and its four subcommands to `app`, filling `args`.
CLI::App* AddCacheCommand(CLI::App& app, CacheArgs& args);
// Exit status: 0 ok; 1 verify found bad blobs, gc could not reach its target, or clear refused
// because the cache is in use; 2 an error (bad configuration, unreadable cache).
int RunCache(const CacheArgs& args, std::ostream& out, std::ostream& err);

// `hubfs status [--mount MP] [--json]`: asks each running mount's daemon (or `mount`'s) what it
// is doing: hubs, cache use, open files and downloads, counters, recent errors (docs/cli.md).
// Exit status: 0; 1 when a daemon did not answer (reported, the others still printed); 2 when
// no hubfs mount is running or `mount` is not one.
struct StatusArgs {
  std::string mount;  // "" for every hubfs mount
  bool json = false;  // print the daemons' replies as a JSON array
};
int RunStatus(const StatusArgs& args, std::ostream& out, std::ostream& err);

// `hubfs info PATH... [--json] [--config FILE]`: source, size, sha256 and its origin (published
// or pinned on first use) and cache state of files in a mount, or of hub paths HUB/PATH without
// a mount (from the hub's cached listing and the configuration's cache_dir); file count, size
// and cached bytes of folders. Exit status: 0; 1 when a path could not be read (or its hub could
// not be listed); 2 when a path is neither in a hubfs mount nor in a configured hub.
struct InfoArgs {
  std::vector<std::string> paths;
  bool json = false;        // one path: a JSON object; several: an array
  std::string config_path;  // for hub paths; empty: the default search (config.h)
};
int RunInfo(const InfoArgs& args, std::ostream& out, std::ostream& err);

}  // namespace hubfs::app
