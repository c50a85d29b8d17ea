// hubfs configuration: one TOML file (docs/configuration.md).
//
//   cache_dir = "/var/cache/hubfs"   # default: $XDG_CACHE_HOME/hubfs or ~/.cache/hubfs
//   metadata_ttl = "10m"             # how long a fetched manifest is used without asking again
//   log_file = "/var/log/hubfs.log"  # default: stderr (foreground) or <cache_dir>/hubfs.log
//   log_target = "auto"              # or "stderr", "file", "syslog" (see logging.h)
//   syslog_socket = "/dev/log"       # the syslog (or journald) datagram socket
//   log_level = "info"
//   verification = "strict"          # or "lazy"; also per hub
//   cache_size = "50%"               # bytes ("20G", "512M", 1000000) or a share of the disk
//   read_timeout = "10s"             # an uncached read fails when no data came for this long
//   import_caches = true             # fill the cache from the hubs' own clients' caches
//   import_dirs = ["/data/onnx/hub"] # instead of the clients' default caches (ApplyImportEnvironment)
//   by_framework = true              # show /by-framework/ (docs/staging.md)
//   staging_dir = "/srv/modelhub"    # hubfs stage's default --to (else MODELHUB_PATH, ~/.modelhub)
//   [[hub]]
//   type = "onnx"  name = "onnx"  repo = "onnx/models:main"  raw_base = "…"  media_base = "…"
//   verification = "lazy"
//   [[hub]]
//   type = "digits"  urls = ["http://…/modelstore/5.0"]  names = ["nvidia"]
//   [[hub]]
//   type = "mindspore"  git_url = "https://gitee.com/mindspore/hub.git"  branches = ["master"]
//   [[hub]]
//   type = "hf"  endpoint = "https://huggingface.co"  token = "hf_…"  repos = ["org/name", …]
//   hf_cache = "~/.cache/huggingface/hub"   # an existing HF cache to read from ("" = none)
//   mirror = "http://site-cache:8080"  mirror_fallback = false  mirror_token = false   # any hub
//   mirror_prefixes = ["https://download.mindspore.cn/"]                          # any hub
//   [[hub]]
//   type = "dms"  models = { "resnet-18" = "https://…/resnet-18.model", "local" = "/srv/x.mar" }
//   [archives]                       # unpacked folders beside .model/.mar/.zip/.tar.gz files
//   views = true  max_members = 100000  max_bytes = "64G"  max_ratio = 1000
//
// Unknown keys are errors, so a typo never silently falls back to a default.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hubfs/archive/archive.h"
#include "hubfs/core/logging.h"
#include "hubfs/core/result.h"
#include "hubfs/fs/read_engine.h"
#include "hubfs/hubs/digits/digits_hub.h"
#include "hubfs/hubs/dms/dms_hub.h"
#include "hubfs/hubs/hf/hf_api.h"
#include "hubfs/hubs/mindspore/mindspore_hub.h"
#include "hubfs/hubs/onnx/onnx_hub.h"

namespace hubfs::app {

// A Hugging Face hub as configured; unset values come from the environment (LoadConfig:
// HF_ENDPOINT, HF_TOKEN, HF_TOKEN_PATH / HF_HOME/token, HF_HUB_CACHE / HF_HOME/hub), then defaults.
struct HfConfig {
  std::optional<std::string> endpoint;
  std::optional<std::string> token;     // a secret: masked by DescribeConfig
  std::string token_file;               // the file `token` was read from (HF_TOKEN_PATH, HF_HOME/token), if any
  std::optional<std::string> hf_cache;  // "" = do not read an existing HF cache
  std::vector<std::string> repos;       // "org/name", "datasets/org/name", with optional "@rev"
};

// A site cache in front of a hub's servers (the [[hub]] keys mirror, mirror_fallback, mirror_token,
// mirror_prefixes; net/mirror_client.h). Requests below the hub's base URLs (and `prefixes`) go to
// <url>/<host><path>.
struct MirrorConfig {
  std::string url;                    // "" = no site cache
  bool fallback = false;              // ask the origin when the site cache cannot be reached
  bool send_token = false;            // requests carrying the hub token go through it too
  std::vector<std::string> prefixes;  // more URL prefixes to send through it (MindSpore downloads)
};

struct HubConfig {
  std::string type;  // "onnx", "digits", "mindspore" or "hf"
  std::string name;  // folder in the mount
  std::optional<fs::Verification> verification;  // unset: the mount's
  hubs::onnx::OnnxHubOptions onnx;                // type "onnx"
  hubs::digits::DigitsHubOptions digits;          // type "digits"
  hubs::mindspore::MindSporeHubOptions mindspore; // type "mindspore"
  HfConfig hf;                                    // type "hf"
  hubs::dms::DmsHubOptions dms;                   // type "dms"
  MirrorConfig mirror;                            // every type
};

// A cache size: absolute bytes, or a percentage of the filesystem that holds the cache.
struct SizeSpec {
  uint64_t bytes = 0;
  int percent = 0;  // used when non-zero
};

// [archives]: unpacked folders beside archive files and the limits against hostile archives.
struct ArchiveConfig {
  bool views = true;
  archive::Limits limits;
};

struct Config {
  std::string source;       // the file it came from, or "built-in defaults"
  std::string cache_dir;
  int64_t metadata_ttl = 600;
  std::string log_file;
  log::Level log_level = log::Level::kInfo;
  log::Target log_target = log::Target::kAuto;
  std::string syslog_socket = "/dev/log";
  fs::Verification verification = fs::Verification::kStrict;
  SizeSpec cache_size{0, 50};
  int64_t read_timeout_ms = 10000;
  ArchiveConfig archives;
  // Files in the hubs' own clients' caches whose sha256 a listed file has are copied into the
  // cache instead of being downloaded (app/cache_importer.h). import_dirs unset: the clients'
  // caches found from the environment (ApplyImportEnvironment).
  bool import_caches = true;
  std::optional<std::vector<std::string>> import_dirs;
  bool by_framework = true;  // show /by-framework/
  // Where `hubfs stage` copies models by default; after LoadConfig never empty: the file's
  // staging_dir, else $MODELHUB_PATH, else $HOME/.modelhub (ApplyStagingEnvironment).
  std::string staging_dir;
  std::vector<HubConfig> hubs;
};

// The effective configuration as TOML text (after defaults and the environment), for
// /.hubfs/config and `hubfs config check`. Secrets (tokens, when hubs have them) are masked.
std::string DescribeConfig(const Config& config);

// Parses configuration text. Errors name `origin`, the line and the key.
Result<Config> ParseConfig(std::string_view text, const std::string& origin);

// Adds the stores of DIGITS_MODEL_STORE_URL (`value`: comma-separated base URLs, as DIGITS reads
// it) to the first digits hub, or to a new hub "digits" when there is none. Empty: no change.
Status AddDigitsStoresFromEnvironment(std::string_view value, Config* config);

// Loads `path` and applies DIGITS_MODEL_STORE_URL; with an empty path, the first of $XDG_CONFIG_HOME/hubfs/config.toml (or
// ~/.config/hubfs/config.toml) and /etc/hubfs/config.toml that exists, else the built-in defaults
// (the public ONNX Model Hub).
Result<Config> LoadConfig(const std::string& path);

// Fills what hf hubs left unset from the environment, read through `env` (getenv in LoadConfig):
// endpoint from HF_ENDPOINT (else the public hub), token from HF_TOKEN, else the file
// HF_TOKEN_PATH or $HF_HOME/token, hf_cache from HF_HUB_CACHE (or HUGGINGFACE_HUB_CACHE), else
// $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub.
using EnvLookup = std::function<const char*(const char*)>;
Status ApplyHfEnvironment(const EnvLookup& env, Config* config);

// Sets import_dirs, when the configuration left it unset, to the caches of the hubs' clients:
// the ONNX hub's ($ONNX_HOME/hub, else $XDG_CACHE_HOME/onnx/hub, else ~/.cache/onnx/hub, as
// onnx.hub decides), every hf hub's hf_cache and the Hugging Face cache of the environment
// (as ApplyHfEnvironment finds it), and MindSpore Hub's ~/.mscache. Relative paths are made
// absolute (the daemon works from "/"); duplicates are dropped.
void ApplyImportEnvironment(const EnvLookup& env, Config* config);
// Fills staging_dir when the file left it unset: MODELHUB_PATH (the Model Hub Zoo's variable),
// else $HOME/.modelhub.
void ApplyStagingEnvironment(const EnvLookup& env, Config* config);

// The default cache folder: $XDG_CACHE_HOME/hubfs, else $HOME/.cache/hubfs.
std::string DefaultCacheDir();

// Parses "90", "90s", "10m", "2h", "1d" into seconds.
std::optional<int64_t> ParseDuration(std::string_view text);
// Parses "1000000", "512K", "64M", "20G", "1T" (powers of 1024) or "50%".
std::optional<SizeSpec> ParseSize(std::string_view text);
// Parses "strict" or "lazy".
std::optional<fs::Verification> ParseVerification(std::string_view text);
// The cache size in bytes for a cache in `dir` (resolves percentages with statvfs).
uint64_t ResolveCacheSize(const SizeSpec& spec, const std::string& dir);

}  // namespace hubfs::app
