// hubfs: model hubs as read-only folders. The command line; see `hubfs --help`.
#include <CLI/CLI.hpp>

#include <iostream>

#include "hubfs/app/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "hubfs mounts model hubs (the ONNX Model Hub and others) as read-only folders.\n"
      "Files download on first read, are verified against the hub's sha256 and stay in a\n"
      "persistent cache, so any program can open models as plain paths.",
      "hubfs"};
  app.set_version_flag("--version", std::string("hubfs ") + HUBFS_VERSION);
  app.require_subcommand(1);

  hubfs::app::MountArgs mount;
  CLI::App* mount_cmd = app.add_subcommand("mount", "Mount every configured hub at MOUNTPOINT");
  mount_cmd->add_option("MOUNTPOINT", mount.mountpoint, "An existing folder (what it holds is hidden while mounted)")->required();
  mount_cmd->add_option("--config,-c", mount.config_path,
                        "Configuration file (default: ~/.config/hubfs/config.toml, then "
                        "/etc/hubfs/config.toml, else the public hubs)");
  mount_cmd->add_option("--cache-dir", mount.cache_dir,
                        "Cache folder (default: cache_dir from the configuration, else "
                        "$XDG_CACHE_HOME/hubfs or ~/.cache/hubfs)");
  mount_cmd->add_option("--cache-size", mount.cache_size,
                        "Upper bound of the cache on disk: 20G, 512M, 50% (of the cache's disk); "
                        "least recently used files are evicted");
  mount_cmd->add_option("--verification", mount.verification,
                        "strict (default): serve a file only once its sha256 matched; lazy: serve "
                        "blocks as they arrive and verify in the background")
      ->check(CLI::IsMember({"strict", "lazy"}));
  mount_cmd->add_flag("--foreground,-f", mount.foreground,
                      "Stay in the foreground and log to stderr (default: detach once mounted)");
  mount_cmd->add_option("-o", mount.fuse_options,
                        "FUSE mount options, e.g. -o allow_other (ro is always set)")
      ->delimiter(',');
  mount_cmd->add_flag("--debug", mount.debug, "Print every FUSE request (with --foreground)");
  mount_cmd->footer(
      "Without --foreground, hubfs returns once the mount is ready, or prints why it could not\n"
      "mount and exits non-zero. The daemon then logs to log_file if set, else to syslog\n"
      "(facility daemon, tag hubfs; journalctl -t hubfs) when /dev/log exists, else to\n"
      "<cache_dir>/hubfs.log; log_target in the configuration chooses otherwise.");

  std::string umount_point;
  CLI::App* umount_cmd = app.add_subcommand("umount", "Unmount a hubfs mount point");
  umount_cmd->alias("unmount");
  umount_cmd->add_option("MOUNTPOINT", umount_point, "The folder hubfs is mounted at")->required();

  std::vector<std::string> pin_paths;
  CLI::App* pin_cmd = app.add_subcommand("pin", "Keep files in the cache: never evict them");
  pin_cmd->add_option("PATH", pin_paths, "Files in a hubfs mount")->required();
  pin_cmd->footer("Pinning does not download; reading the file (or cat > /dev/null) does.");
  std::vector<std::string> unpin_paths;
  CLI::App* unpin_cmd = app.add_subcommand("unpin", "Let pinned files be evicted again");
  unpin_cmd->add_option("PATH", unpin_paths, "Files in a hubfs mount")->required();

  hubfs::app::PrefetchArgs prefetch;
  CLI::App* prefetch_cmd = app.add_subcommand("prefetch", "Download files into the cache now");
  prefetch_cmd->add_option("PATH", prefetch.paths,
                           "Files or folders in a hubfs mount (folders: every file below)")
      ->required();
  prefetch_cmd->add_flag("--pin", prefetch.pin, "Pin the files first, so they are never evicted");
  prefetch_cmd->add_option("--jobs,-j", prefetch.jobs, "Files to read at a time")
      ->default_val(2)
      ->check(CLI::Range(1, 64));
  prefetch_cmd->footer(
      "Reads each file through the mount, so it is verified and cached as for any reader;\n"
      "files already cached and verified are skipped, so running it again resumes. Prints a\n"
      "progress line on a terminal, else one line per file (ok/skipped/failed). Exit status:\n"
      "0 every file is cached, 1 a file failed (reason printed), 2 no such path or not in a\n"
      "hubfs mount, 130 interrupted.");

  hubfs::app::StageArgs stage;
  CLI::App* stage_cmd = app.add_subcommand("stage", "Copy models out of a mount into a folder per framework");
  stage_cmd->add_option("PATH", stage.paths,
                        "Model files or folders in a hubfs mount (hub paths or /by-framework/...)")
      ->required();
  stage_cmd->add_option("--to", stage.to,
                        "Staging folder (default: staging_dir of the configuration, else $MODELHUB_PATH, "
                        "else ~/.modelhub)");
  stage_cmd->add_option("--config,-c", stage.config_path, "Configuration file for staging_dir (default: as hubfs mount)");
  stage_cmd->add_option("--jobs,-j", stage.jobs, "Files to copy at a time")->default_val(2)->check(CLI::Range(1, 64));
  stage_cmd->footer(
      "Copies each model file to DIR/<framework>/<name>, <name> being its name in the mount's\n"
      "/by-framework/<framework>/ (collisions renamed as there); an archive model brings its\n"
      "unpacked folder. Files of a folder that are no models (info.json, test data) are left\n"
      "out. Reads through the mount (cached and verified as for any reader), writes a\n"
      "temporary file and renames it: never a partial file. Files staged already (same size\n"
      "and sha256) are skipped, so running it again resumes. Progress as for prefetch. Exit\n"
      "status: 0 every file staged, 1 a file failed (reason printed), 2 no such path, not in a\n"
      "hubfs mount or unusable DIR, 130 interrupted.");

  std::string validate_path;
  CLI::App* validate_cmd = app.add_subcommand(
      "validate", "Check MindSpore Hub asset files (.md) with the rules of the hub's md_validator");
  validate_cmd->add_option("FILE|DIR", validate_path,
                           "One asset .md, or a folder: every .md below it except README.md and "
                           "README_CN.md")
      ->required();
  validate_cmd->footer(
      "Prints path:line: problem for each problem and a summary. Exit status: 0 all passed,\n"
      "1 a file failed, 2 no such file or folder. Checks the front matter (two '---' lines,\n"
      "YAML), required fields, value types and allow-lists, and the asset entries; a _cn.md\n"
      "file is checked through its English twin, as the official tool does. Offline: links\n"
      "are not fetched, and train-dataset and featured-image are not checked.\n"
      "With --format onnx or digits, DIR is a folder hubfs publish wrote: its\n"
      "ONNX_HUB_MANIFEST.json or master.json and info.json files are read with hubfs' parsers\n"
      "and every file they name is re-hashed and compared.");
  std::string validate_format = "mindspore";
  validate_cmd->add_option("--format", validate_format,
                           "What DIR holds: mindspore (default; asset .md files), onnx or digits")
      ->check(CLI::IsMember({"mindspore", "onnx", "digits"}));

  hubfs::app::PublishArgs publish;
  CLI::App* publish_cmd = app.add_subcommand(
      "publish", "Write the index documents that make a folder of models a hub");
  publish_cmd->add_option("DIR", publish.dir, "The folder of models (documents are written into it)")
      ->required();
  publish_cmd->add_option("--format", publish.format, "onnx, digits or mindspore")
      ->required()
      ->check(CLI::IsMember({"onnx", "digits", "mindspore"}));
  publish_cmd->add_option("--base-url", publish.base_url,
                          "mindspore: the http(s) URL DIR is served at (asset-link prefix)");
  publish_cmd->add_flag("--git", publish.git,
                        "mindspore: git init, add and commit DIR (only mshub_res/ is tracked)");
  publish_cmd->footer(
      "onnx: DIR is the repo root. Every *.onnx below it becomes an entry of\n"
      "DIR/ONNX_HUB_MANIFEST.json (name from the file stem, opset, onnx_version and io_ports read\n"
      "from the model, model_sha and model_bytes, tags from the folders; a <stem>.tar.gz beside it\n"
      "becomes model_with_data_*). Serve DIR as <base>/<owner>/<name>/<ref>/.\n"
      "digits: one folder per model; writes DIR/master.json and an info.json for folders without\n"
      "one (from .caffemodel/.prototxt/labels.txt or .t7/.lua); an existing info.json is kept.\n"
      "mindspore: DIR/<version>/<model>/ folders of weights (.ckpt .mindir .air .onnx .ms); writes\n"
      "DIR/mshub_res/assets/mindspore/<version>/<model>.md with asset-link and asset-sha256 and\n"
      "placeholders marked edit-me; an existing .md is kept. A mindspore hub reads a git repo:\n"
      "commit DIR or use --git.\n"
      "Progress per file on stderr. Exit status: 0 written; 1 a file was skipped (reason\n"
      "printed); 2 usage error. Check the result with hubfs validate DIR --format FORMAT.");

  std::vector<std::string> refresh_hubs;
  std::string refresh_mount;
  CLI::App* refresh_cmd = app.add_subcommand("refresh", "Re-read hub manifests and listings now");
  refresh_cmd->add_option("HUB", refresh_hubs, "Hubs to refresh, by folder name (default: all)");
  refresh_cmd->add_option("--mount,-m", refresh_mount, "Only this mount point (default: every hubfs mount of yours; root: all)");
  refresh_cmd->footer(
      "Without refresh, a mount re-reads a listing once it is older than metadata_ttl. A refresh\n"
      "asks the servers at once; entries that changed appear in the mount when this returns,\n"
      "and a hub that cannot be reached keeps its last listing (exit status 1).");

  hubfs::app::BrowseArgs browse;
  CLI::App* ls_cmd = app.add_subcommand("ls", "List the models of the configured hubs, without mounting");
  ls_cmd->add_option("HUB[/PATH]", browse.target, "One hub, or a folder of it (default: every hub)");
  hubfs::app::BrowseArgs search;
  CLI::App* search_cmd = app.add_subcommand("search", "Find models by name in every configured hub");
  search_cmd->add_option("TEXT", search.text, "Part of the model name (case-insensitive)")->required();
  for (auto [cmd, args] : {std::pair{ls_cmd, &browse}, std::pair{search_cmd, &search}}) {
    cmd->add_option("--tag,-t", args->tags, "Only models with one of these tags (repeatable; case-insensitive)");
    cmd->add_option("--framework", args->framework, "Only models of this framework: onnx, caffe, torch, mindspore, ...");
    cmd->add_flag("--json", args->json, "Print a JSON array of objects instead of a table");
    cmd->add_option("--config,-c", args->config_path, "Configuration file (default: as hubfs mount)");
    cmd->footer(
        "Reads the hubs' indexes through the cache (cache_dir): copies younger than metadata_ttl\n"
        "are used without a request; when a server is down, the cached copy is used with a note\n"
        "on stderr. Columns: hub/path, name, opset/version, framework, tags, size.\n"
        "Exit status: 0; 1 a hub could not be listed (nothing cached); 2 unknown hub or path.");
  }
  std::string config_check_path;
  CLI::App* config_cmd = app.add_subcommand("config", "Work with the configuration file");
  config_cmd->require_subcommand(1);
  CLI::App* config_check_cmd = config_cmd->add_subcommand("check", "Validate a configuration and show its effective settings");
  config_check_cmd->add_option("FILE", config_check_path,
                               "Configuration file (default: the one hubfs mount would use)");
  config_check_cmd->footer("Applies DIGITS_MODEL_STORE_URL as hubfs mount does. Exit status: 0 ok; 1 an error,\n"
                           "printed as FILE:LINE: message naming the key.");

  hubfs::app::CacheArgs cache_args;
  CLI::App* cache_cmd = hubfs::app::AddCacheCommand(app, cache_args);

  hubfs::app::StatusArgs status_args;
  CLI::App* status_cmd = app.add_subcommand("status", "Show what running mounts are doing");
  status_cmd->add_option("--mount,-m", status_args.mount, "Only this mount point (default: every hubfs mount of yours; root: all)");
  status_cmd->add_flag("--json", status_args.json, "Print the daemons' replies as a JSON array");
  status_cmd->footer(
      "Per mount: daemon pid and uptime, configuration file, cache use and limit, hubs (entries,\n"
      "age of the listing, stale), open files, downloads in flight, traffic and hit counters,\n"
      "and the last 10 errors. Exit status: 0; 1 a mount's daemon did not answer; 2 no hubfs\n"
      "mount is running (or --mount is not one).");
  hubfs::app::InfoArgs info_args;
  CLI::App* info_cmd = app.add_subcommand("info", "Show where a file comes from and what of it is cached");
  info_cmd->add_option("PATH", info_args.paths, "Files or folders in a hubfs mount, or hub paths HUB/PATH")->required();
  info_cmd->add_flag("--json", info_args.json, "Print JSON (one path: an object; several: an array)");
  info_cmd->add_option("--config,-c", info_args.config_path, "Configuration file for hub paths (default: as hubfs mount)");
  info_cmd->footer(
      "For a file: source URL, size, sha256 and whether the hub published it or it was pinned\n"
      "on first use, bytes cached, verified/partial/poisoned, pinned, cache key and folder.\n"
      "For a folder: files, total size and bytes cached below it. A PATH that is not in a\n"
      "hubfs mount is read as HUB/PATH of the configuration, without a mount: from the hub's\n"
      "cached listing (as hubfs ls reads it) and the cache folder. Exit status: 0; 1 a path\n"
      "could not be read (or its hub listed); 2 neither in a hubfs mount nor in a hub.");

  CLI11_PARSE(app, argc, argv);
  if (*mount_cmd) return hubfs::app::RunMount(mount);
  if (*umount_cmd) return hubfs::app::RunUmount(umount_point);
  if (*pin_cmd) return hubfs::app::RunPin(pin_paths, true);
  if (*refresh_cmd) return hubfs::app::RunRefresh(refresh_hubs, refresh_mount);
  if (*unpin_cmd) return hubfs::app::RunPin(unpin_paths, false);
  if (*prefetch_cmd) return hubfs::app::RunPrefetch(prefetch);
  if (*stage_cmd) return hubfs::app::RunStage(stage);
  if (*validate_cmd && validate_format != "mindspore") {
    return hubfs::app::RunPublishCheck(validate_path, validate_format, std::cout, std::cerr);
  }
  if (*validate_cmd) return hubfs::app::RunValidate(validate_path, std::cout, std::cerr);
  if (*publish_cmd) return hubfs::app::RunPublish(publish, std::cout, std::cerr);
  if (*ls_cmd) return hubfs::app::RunLs(browse, std::cout, std::cerr);
  if (*search_cmd) return hubfs::app::RunSearch(search, std::cout, std::cerr);
  if (*config_check_cmd) return hubfs::app::RunConfigCheck(config_check_path, std::cout, std::cerr);
  if (*cache_cmd) return hubfs::app::RunCache(cache_args, std::cout, std::cerr);
  if (*status_cmd) return hubfs::app::RunStatus(status_args, std::cout, std::cerr);
  if (*info_cmd) return hubfs::app::RunInfo(info_args, std::cout, std::cerr);
  return 1;
}
