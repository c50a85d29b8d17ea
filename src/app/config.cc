#include "hubfs/app/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <cctype>

#include "config_secrets.h"
#include "hubfs/core/names.h"
#include "hubfs/fs/framework_view.h"

namespace hubfs::app {
namespace {

std::string Where(const std::string& origin, const toml::node& node) {
  return origin + ":" + std::to_string(node.source().begin.line);
}

Status Invalid(const std::string& origin, const toml::node& node, const std::string& what) {
  return Status::InvalidArgument(Where(origin, node) + ": " + what);
}

Result<std::string> GetString(const std::string& origin, const toml::table& table,
                              const std::string& key, const std::string& fallback) {
  const toml::node* node = table.get(key);
  if (!node) return fallback;
  if (!node->is_string()) return Invalid(origin, *node, "'" + key + "' must be a string");
  return std::string(*node->as_string());
}

Result<fs::Verification> GetVerification(const std::string& origin, const toml::node& node) {
  std::optional<fs::Verification> v;
  if (node.is_string()) v = ParseVerification(node.as_string()->get());
  if (!v) return Invalid(origin, node, "'verification' must be \"strict\" or \"lazy\"");
  return *v;
}

Status CheckKeys(const std::string& origin, const toml::table& table,
                 const std::set<std::string>& allowed, const std::string& where) {
  for (const auto& [key, node] : table) {
    if (!allowed.count(std::string(key.str()))) {
      return Invalid(origin, node, "unknown key '" + std::string(key.str()) + "'" + where);
    }
  }
  return Status();
}

Result<std::vector<std::string>> GetStringArray(const std::string& origin, const toml::table& table,
                                                const std::string& key, const std::string& where) {
  std::vector<std::string> out;
  const toml::node* node = table.get(key);
  if (!node) return out;
  const toml::array* array = node->as_array();
  if (!array) return Invalid(origin, *node, "'" + key + "' must be an array of strings" + where);
  for (const toml::node& item : *array) {
    if (!item.is_string()) return Invalid(origin, item, "'" + key + "' must be an array of strings" + where);
    out.push_back(std::string(*item.as_string()));
  }
  return out;
}

Status CheckHttpUrl(const std::string& origin, const toml::table& t, const char* key,
                    const std::string& url, const std::string& where) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Invalid(origin, t.get(key) ? *t.get(key) : static_cast<const toml::node&>(t),
                   std::string("'") + key + "' must be an http:// or https:// URL" + where);
  }
  return Status();
}

// The keys a [[hub]] table of one type allows: its own and those every hub has.
std::set<std::string> HubKeys(std::initializer_list<const char*> own) {
  std::set<std::string> keys{"type", "name", "verification", "mirror", "mirror_fallback", "mirror_token",
                             "mirror_prefixes"};
  keys.insert(own.begin(), own.end());
  return keys;
}

Result<bool> GetBool(const std::string& origin, const toml::table& table, const std::string& key, bool fallback) {
  const toml::node* node = table.get(key);
  if (!node) return fallback;
  if (!node->is_boolean()) return Invalid(origin, *node, "'" + key + "' must be true or false");
  return node->as_boolean()->get();
}

// A URL hubfs may send requests to: http(s), with no credentials, query or fragment (it is shown
// in /.hubfs/config and logs, and paths are appended to it).
bool IsPlainHttpUrl(const std::string& url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) return false;
  const size_t host = url.find("://") + 3;
  return host < url.size() && url[host] != '/' && url.find_first_of("@?# ", host) == std::string::npos;
}

// mirror, mirror_fallback, mirror_token, mirror_prefixes (net/mirror_client.h).
Status ParseMirror(const std::string& origin, const toml::table& t, const std::string& where, HubConfig* hub) {
  MirrorConfig& m = hub->mirror;
  HUBFS_ASSIGN_OR_RETURN(m.url, GetString(origin, t, "mirror", ""));
  if (t.get("mirror") && !IsPlainHttpUrl(m.url)) {
    return Invalid(origin, *t.get("mirror"),
                   "'mirror' must be an http:// or https:// URL without user, query or fragment" + where);
  }
  while (!m.url.empty() && m.url.back() == '/') m.url.pop_back();
  HUBFS_ASSIGN_OR_RETURN(m.fallback, GetBool(origin, t, "mirror_fallback", false));
  HUBFS_ASSIGN_OR_RETURN(m.send_token, GetBool(origin, t, "mirror_token", false));
  HUBFS_ASSIGN_OR_RETURN(m.prefixes, GetStringArray(origin, t, "mirror_prefixes", where));
  for (const std::string& prefix : m.prefixes) {
    if (!IsPlainHttpUrl(prefix)) {
      return Invalid(origin, *t.get("mirror_prefixes"),
                     "'mirror_prefixes' must hold http:// or https:// URLs without user, query or fragment" + where);
    }
  }
  if (m.url.empty()) {
    for (const char* key : {"mirror_fallback", "mirror_token", "mirror_prefixes"}) {
      if (t.get(key)) return Invalid(origin, *t.get(key), std::string("'") + key + "' needs 'mirror'" + where);
    }
  } else if (hub->type == "mindspore" && m.prefixes.empty()) {
    // Its listing is a git clone (never mirrored) and its downloads are on hosts the assets name.
    return Invalid(origin, *t.get("mirror"),
                   "a mindspore hub's 'mirror' needs 'mirror_prefixes': the download URLs to send through it" +
                       where);
  }
  return Status();
}

Status ParseOnnxHub(const std::string& origin, const toml::table& t, const std::string& where, HubConfig* hub) {
  HUBFS_RETURN_IF_ERROR(
      CheckKeys(origin, t, HubKeys({"repo", "raw_base", "media_base"}), where));
  // Required: defaulting to the official zoo when someone points raw_base at their own server
  // would silently mix two hubs.
  if (!t.get("repo")) return Invalid(origin, t, "'repo' (owner/name[:ref]) is required" + where);
  HUBFS_ASSIGN_OR_RETURN(std::string repo, GetString(origin, t, "repo", ""));
  auto spec = hubs::onnx::ParseRepoSpec(repo);
  if (!spec) return Invalid(origin, *t.get("repo"), spec.error().message() + where);
  hub->onnx.name = hub->name;
  hub->onnx.repo = *spec;
  HUBFS_ASSIGN_OR_RETURN(hub->onnx.raw_base, GetString(origin, t, "raw_base", hub->onnx.raw_base));
  HUBFS_ASSIGN_OR_RETURN(hub->onnx.media_base, GetString(origin, t, "media_base", hub->onnx.media_base));
  HUBFS_RETURN_IF_ERROR(CheckHttpUrl(origin, t, "raw_base", hub->onnx.raw_base, where));
  return CheckHttpUrl(origin, t, "media_base", hub->onnx.media_base, where);
}

Status ParseDigitsHub(const std::string& origin, const toml::table& t, const std::string& where, HubConfig* hub) {
  HUBFS_RETURN_IF_ERROR(CheckKeys(origin, t, HubKeys({"urls", "names"}), where));
  HUBFS_ASSIGN_OR_RETURN(auto urls, GetStringArray(origin, t, "urls", where));
  HUBFS_ASSIGN_OR_RETURN(auto names, GetStringArray(origin, t, "names", where));
  if (names.size() > urls.size()) {
    return Invalid(origin, *t.get("names"), "'names' has more entries than 'urls'" + where);
  }
  hub->digits.name = hub->name;
  for (size_t i = 0; i < urls.size(); ++i) {
    if (Status s = hubs::digits::CheckStoreUrl(urls[i]); !s.ok()) {
      return Invalid(origin, *t.get("urls"), s.message() + where);
    }
    hub->digits.stores.push_back({urls[i], i < names.size() ? names[i] : ""});
  }
  return Status();
}

Status ParseMindSporeHub(const std::string& origin, const toml::table& t, const std::string& where,
                         HubConfig* hub) {
  HUBFS_RETURN_IF_ERROR(CheckKeys(origin, t, HubKeys({"git_url", "branches"}), where));
  hub->mindspore.name = hub->name;
  HUBFS_ASSIGN_OR_RETURN(hub->mindspore.git_url, GetString(origin, t, "git_url", hub->mindspore.git_url));
  if (hub->mindspore.git_url.empty()) return Invalid(origin, *t.get("git_url"), "'git_url' must not be empty" + where);
  if (t.get("branches")) {
    HUBFS_ASSIGN_OR_RETURN(hub->mindspore.branches, GetStringArray(origin, t, "branches", where));
    if (hub->mindspore.branches.empty()) {
      return Invalid(origin, *t.get("branches"), "'branches' must name at least one branch" + where);
    }
  }
  return Status();
}

Status ParseHfHub(const std::string& origin, const toml::table& t, const std::string& where, HubConfig* hub) {
  HUBFS_RETURN_IF_ERROR(
      CheckKeys(origin, t, HubKeys({"endpoint", "token", "repos", "hf_cache"}), where));
  if (t.get("endpoint")) {
    HUBFS_ASSIGN_OR_RETURN(std::string endpoint, GetString(origin, t, "endpoint", ""));
    HUBFS_RETURN_IF_ERROR(CheckHttpUrl(origin, t, "endpoint", endpoint, where));
    hub->hf.endpoint = endpoint;
  }
  if (t.get("token")) {
    HUBFS_ASSIGN_OR_RETURN(std::string token, GetString(origin, t, "token", ""));
    if (token.empty() || HasControlChars(token) || token.find(' ') != std::string::npos) {
      return Invalid(origin, *t.get("token"), "'token' must be a non-empty token without spaces" + where);
    }
    hub->hf.token = token;
  }
  if (t.get("hf_cache")) {
    HUBFS_ASSIGN_OR_RETURN(std::string dir, GetString(origin, t, "hf_cache", ""));
    if (!dir.empty() && dir[0] != '/') {
      return Invalid(origin, *t.get("hf_cache"), "'hf_cache' must be an absolute path, or \"\" for none" + where);
    }
    hub->hf.hf_cache = dir;
  }
  HUBFS_ASSIGN_OR_RETURN(hub->hf.repos, GetStringArray(origin, t, "repos", where));
  for (const std::string& repo : hub->hf.repos) {
    if (auto parsed = hubs::hf::ParseRepoSpec(repo); !parsed) {
      return Invalid(origin, *t.get("repos"), parsed.error().message() + where);
    }
  }
  return Status();
}

// [archives]: the unpacked folders beside archive files (fs/archive_views.h) and their limits.
Status ParseArchives(const std::string& origin, const toml::table& root, ArchiveConfig* archives) {
  const toml::node* node = root.get("archives");
  if (!node) return Status();
  const toml::table* t = node->as_table();
  if (!t) return Invalid(origin, *node, "'archives' must be a table: [archives]");
  HUBFS_RETURN_IF_ERROR(CheckKeys(origin, *t, {"views", "max_members", "max_bytes", "max_ratio"}, " in [archives]"));
  HUBFS_ASSIGN_OR_RETURN(archives->views, GetBool(origin, *t, "views", true));
  auto positive = [&](const char* key, uint64_t* out) -> Status {
    const toml::node* v = t->get(key);
    if (!v) return Status();
    if (!v->is_integer() || v->as_integer()->get() <= 0) {
      return Invalid(origin, *v, std::string("'") + key + "' in [archives] must be a positive whole number");
    }
    *out = static_cast<uint64_t>(v->as_integer()->get());
    return Status();
  };
  HUBFS_RETURN_IF_ERROR(positive("max_members", &archives->limits.max_members));
  HUBFS_RETURN_IF_ERROR(positive("max_ratio", &archives->limits.max_ratio));
  if (const toml::node* v = t->get("max_bytes")) {
    std::optional<SizeSpec> spec;
    if (v->is_string()) spec = ParseSize(v->as_string()->get());
    if (v->is_integer() && v->as_integer()->get() > 0) spec = SizeSpec{static_cast<uint64_t>(v->as_integer()->get()), 0};
    if (!spec || spec->percent) return Invalid(origin, *v, "'max_bytes' in [archives] must be a size like \"64G\"");
    archives->limits.max_total_bytes = spec->bytes;
  }
  return Status();
}

// type = "dms": models = { name = "URL or path", ... }, as deep-model-server --models name=URL.
Status ParseDmsHub(const std::string& origin, const toml::table& t, const std::string& where, HubConfig* hub) {
  HUBFS_RETURN_IF_ERROR(CheckKeys(origin, t, HubKeys({"models"}), where));
  hub->dms.name = hub->name;
  const toml::table* models = t.get("models") ? t.get("models")->as_table() : nullptr;
  if (!models || models->empty()) {
    return Invalid(origin, t.get("models") ? *t.get("models") : static_cast<const toml::node&>(t),
                   "'models' must be a table of name = \"URL or path\" pairs" + where);
  }
  for (const auto& [key, value] : *models) {
    hubs::dms::DmsModel model;
    model.name = std::string(key.str());
    if (!value.is_string()) return Invalid(origin, value, "models." + model.name + " must be a URL or a path" + where);
    model.location = value.as_string()->get();
    if (model.location.rfind("/", 0) == 0 || model.location.find("://") == std::string::npos) {
      // A local archive, as deep-model-server accepts: relative to where hubfs is started.
      std::error_code ec;
      model.location = "file://" + std::filesystem::absolute(model.location, ec).lexically_normal().string();
    } else if (!IsPlainHttpUrl(model.location) && model.location.rfind("file:///", 0) != 0) {
      return Invalid(origin, value, "models." + model.name + " must be an http(s):// URL or a local path" + where);
    }
    if (hubs::dms::ArchiveFileName(model).empty()) {
      return Invalid(origin, value, "models." + model.name + ": the name must be a plain file name" + where);
    }
    hub->dms.models.push_back(std::move(model));
  }
  return Status();
}

Result<HubConfig> ParseHub(const std::string& origin, const toml::table& t, size_t index) {
  HubConfig hub;
  const std::string where = " in [[hub]] #" + std::to_string(index + 1);
  HUBFS_ASSIGN_OR_RETURN(hub.type, GetString(origin, t, "type", ""));
  if (hub.type.empty()) return Invalid(origin, t, "'type' is required" + where);
  if (hub.type != "onnx" && hub.type != "digits" && hub.type != "mindspore" && hub.type != "hf" &&
      hub.type != "dms") {
    return Invalid(origin, *t.get("type"),
                   "unknown hub type '" + hub.type + "'" + where + " (supported: onnx, digits, mindspore, hf, dms)");
  }
  if (const toml::node* v = t.get("verification")) {
    HUBFS_ASSIGN_OR_RETURN(hub.verification, GetVerification(origin, *v));
  }
  HUBFS_ASSIGN_OR_RETURN(hub.name, GetString(origin, t, "name", hub.type));
  if (!IsSafeName(hub.name) || hub.name == "." || hub.name == "..") {
    return Invalid(origin, t, "'name' must be a plain folder name" + where);
  }
  if (hub.name == ".hubfs") return Invalid(origin, t, "'name' .hubfs is reserved for hubfs' own files" + where);
  if (hub.name == fs::kFrameworkFolder) {
    return Invalid(origin, t, std::string("'name' ") + fs::kFrameworkFolder + " is reserved for the view of models by framework" + where);
  }
  if (hub.type == "onnx") HUBFS_RETURN_IF_ERROR(ParseOnnxHub(origin, t, where, &hub));
  if (hub.type == "digits") HUBFS_RETURN_IF_ERROR(ParseDigitsHub(origin, t, where, &hub));
  if (hub.type == "mindspore") HUBFS_RETURN_IF_ERROR(ParseMindSporeHub(origin, t, where, &hub));
  if (hub.type == "hf") HUBFS_RETURN_IF_ERROR(ParseHfHub(origin, t, where, &hub));
  if (hub.type == "dms") HUBFS_RETURN_IF_ERROR(ParseDmsHub(origin, t, where, &hub));
  HUBFS_RETURN_IF_ERROR(ParseMirror(origin, t, where, &hub));
  return hub;
}

Config Defaults() {
  Config c;
  c.source = "built-in defaults";
  HubConfig onnx;
  onnx.type = "onnx";
  onnx.name = "onnx";
  onnx.onnx.name = "onnx";
  onnx.onnx.repo = {"onnx", "models", "main"};
  c.hubs.push_back(onnx);
  // The Hugging Face Hub with nothing configured: repositories appear when looked up
  // (ls hf/onnxmodelzoo/…), so mounting asks it nothing.
  HubConfig hf;
  hf.type = "hf";
  hf.name = "hf";
  c.hubs.push_back(hf);
  return c;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::optional<int64_t> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t unit = 1;
  switch (text.back()) {
    case 's': unit = 1; text.remove_suffix(1); break;
    case 'm': unit = 60; text.remove_suffix(1); break;
    case 'h': unit = 3600; text.remove_suffix(1); break;
    case 'd': unit = 86400; text.remove_suffix(1); break;
    default: break;
  }
  if (text.empty() || text.size() > 12) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value * unit;
}

std::optional<SizeSpec> ParseSize(std::string_view text) {
  if (text.empty() || text.size() > 24) return std::nullopt;
  if (text.back() == '%') {
    auto n = ParseDuration(text.substr(0, text.size() - 1));  // plain digits
    if (!n || *n <= 0 || *n > 100 || !std::isdigit(static_cast<unsigned char>(text[text.size() - 2]))) {
      return std::nullopt;
    }
    return SizeSpec{0, static_cast<int>(*n)};
  }
  uint64_t unit = 1;
  switch (std::toupper(static_cast<unsigned char>(text.back()))) {
    case 'K': unit = uint64_t{1} << 10; break;
    case 'M': unit = uint64_t{1} << 20; break;
    case 'G': unit = uint64_t{1} << 30; break;
    case 'T': unit = uint64_t{1} << 40; break;
    default: break;
  }
  if (unit != 1) text.remove_suffix(1);
  if (text.empty() || text.size() > 15) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value == 0 || value > UINT64_MAX / unit) return std::nullopt;
  return SizeSpec{value * unit, 0};
}

std::optional<fs::Verification> ParseVerification(std::string_view text) {
  if (text == "strict") return fs::Verification::kStrict;
  if (text == "lazy") return fs::Verification::kLazy;
  return std::nullopt;
}

uint64_t ResolveCacheSize(const SizeSpec& spec, const std::string& dir) {
  if (spec.percent == 0) return spec.bytes;
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return UINT64_MAX;  // unknown: no limit rather than none
  return static_cast<uint64_t>(st.f_blocks) * st.f_frsize / 100 * static_cast<uint64_t>(spec.percent);
}

void ApplyStagingEnvironment(const EnvLookup& env, Config* config) {
  if (!config->staging_dir.empty()) return;
  if (const char* path = env("MODELHUB_PATH"); path && *path) {
    config->staging_dir = path;
    return;
  }
  const char* home = env("HOME");
  config->staging_dir = std::string(home && *home ? home : "/tmp") + "/.modelhub";
}

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/hubfs";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cache/hubfs";
}

Result<Config> ParseConfig(std::string_view text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(origin + ":" + std::to_string(e.source().begin.line) + ": " +
                                   std::string(e.description()));
  }
  Config c;
  c.source = origin;
  HUBFS_RETURN_IF_ERROR(CheckKeys(origin, root,
                                  {"cache_dir", "metadata_ttl", "log_file", "log_level", "hub",
                                   "verification", "cache_size", "read_timeout", "log_target",
                                   "syslog_socket", "archives", "import_caches", "import_dirs",
                                   "by_framework", "staging_dir"},
                                  ""));
  HUBFS_RETURN_IF_ERROR(ParseArchives(origin, root, &c.archives));
  if (const toml::node* v = root.get("verification")) {
    HUBFS_ASSIGN_OR_RETURN(c.verification, GetVerification(origin, *v));
  }
  if (const toml::node* size = root.get("cache_size")) {
    std::optional<SizeSpec> spec;
    if (size->is_integer() && size->as_integer()->get() > 0) {
      spec = SizeSpec{static_cast<uint64_t>(size->as_integer()->get()), 0};
    }
    if (size->is_string()) spec = ParseSize(size->as_string()->get());
    if (!spec) return Invalid(origin, *size, "'cache_size' must be like \"20G\", \"512M\" or \"50%\"");
    c.cache_size = *spec;
  }
  if (const toml::node* timeout = root.get("read_timeout")) {
    std::optional<int64_t> seconds;
    if (timeout->is_string()) seconds = ParseDuration(timeout->as_string()->get());
    if (timeout->is_integer()) seconds = timeout->as_integer()->get();
    if (!seconds || *seconds <= 0) {
      return Invalid(origin, *timeout, "'read_timeout' must be a duration like \"10s\"");
    }
    c.read_timeout_ms = *seconds * 1000;
  }
  HUBFS_ASSIGN_OR_RETURN(c.cache_dir, GetString(origin, root, "cache_dir", ""));
  HUBFS_ASSIGN_OR_RETURN(c.by_framework, GetBool(origin, root, "by_framework", true));
  if (const toml::node* staging = root.get("staging_dir")) {
    HUBFS_ASSIGN_OR_RETURN(c.staging_dir, GetString(origin, root, "staging_dir", ""));
    if (c.staging_dir.empty() || c.staging_dir[0] != '/') {
      return Invalid(origin, *staging, "'staging_dir' must be an absolute path");
    }
  }
  HUBFS_ASSIGN_OR_RETURN(c.log_file, GetString(origin, root, "log_file", ""));
  if (const toml::node* ttl = root.get("metadata_ttl")) {
    std::optional<int64_t> seconds;
    if (ttl->is_integer()) seconds = ttl->as_integer()->get();
    if (ttl->is_string()) seconds = ParseDuration(ttl->as_string()->get());
    if (!seconds || *seconds < 0) {
      return Invalid(origin, *ttl, "'metadata_ttl' must be a duration like \"90s\", \"10m\", \"1h\"");
    }
    c.metadata_ttl = *seconds;
  }
  if (const toml::node* level = root.get("log_level")) {
    if (!level->is_string() || !log::ParseLevel(level->as_string()->get(), &c.log_level)) {
      return Invalid(origin, *level, "'log_level' must be one of debug, info, warn, error");
    }
  }
  if (const toml::node* target = root.get("log_target")) {
    if (!target->is_string() || !log::ParseTarget(target->as_string()->get(), &c.log_target)) {
      return Invalid(origin, *target, "'log_target' must be one of auto, stderr, file, syslog");
    }
    // A log_file that would never be written is a mistake, not a preference.
    if (const toml::node* file = root.get("log_file");
        file && c.log_target != log::Target::kAuto && c.log_target != log::Target::kFile) {
      return Invalid(origin, *file, std::string("'log_file' is set, but log_target = \"") +
                                        log::TargetName(c.log_target) + "\" never writes a file");
    }
  }
  if (const toml::node* socket = root.get("syslog_socket")) {
    HUBFS_ASSIGN_OR_RETURN(c.syslog_socket, GetString(origin, root, "syslog_socket", ""));
    if (c.syslog_socket.empty() || c.syslog_socket[0] != '/' || c.syslog_socket.size() > 107) {
      return Invalid(origin, *socket, "'syslog_socket' must be an absolute path of at most 107 bytes");
    }
  }
  if (const toml::node* import = root.get("import_caches")) {
    if (!import->is_boolean()) return Invalid(origin, *import, "'import_caches' must be true or false");
    c.import_caches = import->as_boolean()->get();
  }
  if (const toml::node* dirs = root.get("import_dirs")) {
    HUBFS_ASSIGN_OR_RETURN(c.import_dirs, GetStringArray(origin, root, "import_dirs", ""));
    for (const std::string& dir : *c.import_dirs) {
      if (dir.empty() || dir[0] != '/') return Invalid(origin, *dirs, "'import_dirs' must list absolute paths");
    }
  }
  if (const toml::node* hubs = root.get("hub")) {
    const toml::array* array = hubs->as_array();
    if (!array) return Invalid(origin, *hubs, "'hub' must be written as [[hub]] tables");
    std::set<std::string> names;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::table* t = (*array)[i].as_table();
      if (!t) return Invalid(origin, (*array)[i], "each [[hub]] must be a table");
      HUBFS_ASSIGN_OR_RETURN(HubConfig hub, ParseHub(origin, *t, i));
      if (!names.insert(hub.name).second) {
        return Invalid(origin, *t, "two hubs are named '" + hub.name + "'; give one a different 'name'");
      }
      c.hubs.push_back(std::move(hub));
    }
  }
  // A file that only sets options (cache_dir, say) still mounts the public hubs.
  if (c.hubs.empty()) c.hubs = Defaults().hubs;
  return c;
}

Result<Config> LoadConfig(const std::string& path) {
  std::string chosen = path;
  if (chosen.empty()) {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    const char* home = std::getenv("HOME");
    std::string user = xdg && *xdg ? std::string(xdg) + "/hubfs/config.toml"
                                   : std::string(home ? home : "") + "/.config/hubfs/config.toml";
    for (const std::string& candidate : {user, std::string("/etc/hubfs/config.toml")}) {
      if (FileExists(candidate)) {
        chosen = candidate;
        break;
      }
    }
  }
  Config config;
  if (chosen.empty()) {
    config = Defaults();
  } else {
    // A directory opens fine and reads as empty text, which would silently mean the defaults.
    struct stat st {};
    if (::stat(chosen.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return Status::InvalidArgument("cannot read configuration file " + chosen +
                                     ": it is a directory");
    }
    std::ifstream in(chosen);
    if (!in) return Status::InvalidArgument("cannot read configuration file " + chosen);
    std::stringstream text;
    text << in.rdbuf();
    // Before parsing: a token must not stay readable by others, whatever else is wrong.
    HUBFS_RETURN_IF_ERROR(CheckSecretsArePrivate(chosen, st.st_mode, text.str()));
    HUBFS_ASSIGN_OR_RETURN(config, ParseConfig(text.str(), chosen));
  }
  if (config.cache_dir.empty()) config.cache_dir = DefaultCacheDir();
  const char* stores = std::getenv("DIGITS_MODEL_STORE_URL");
  HUBFS_RETURN_IF_ERROR(AddDigitsStoresFromEnvironment(stores ? stores : "", &config));
  HUBFS_RETURN_IF_ERROR(ApplyHfEnvironment([](const char* name) { return std::getenv(name); }, &config));
  ApplyImportEnvironment([](const char* name) { return std::getenv(name); }, &config);
  ApplyStagingEnvironment([](const char* name) { return std::getenv(name); }, &config);
  // Store lists are complete only now (the variable adds to them): check them here, so that
  // `hubfs mount` reports a bad one instead of mounting a hub that cannot list.
  for (const HubConfig& hub : config.hubs) {
    if (hub.type != "digits") continue;
    if (hub.digits.stores.empty()) {
      return Status::InvalidArgument(chosen + ": hub '" + hub.name +
                                     "' has no stores: set 'urls' or DIGITS_MODEL_STORE_URL");
    }
    auto resolved = hubs::digits::ResolveStores(hub.digits.stores);
    if (!resolved) return Status::InvalidArgument(chosen + ": hub '" + hub.name + "': " + resolved.error().message());
  }
  return config;
}

std::string DescribeConfig(const Config& c) {
  auto quote = [](const std::string& v) {
    std::string out = "\"";
    for (char ch : v) {
      if (ch == '"' || ch == '\\') out.push_back('\\');
      out.push_back(ch);
    }
    return out + "\"";
  };
  auto list = [&](const std::vector<std::string>& items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + quote(items[i]);
    return out + "]";
  };
  auto verification = [](fs::Verification v) { return v == fs::Verification::kLazy ? "\"lazy\"" : "\"strict\""; };
  std::string out = "# effective configuration, from " + c.source + "\n";
  out += "cache_dir = " + quote(c.cache_dir) + "\n";
  out += "cache_size = " + quote(c.cache_size.percent ? std::to_string(c.cache_size.percent) + "%"
                                                     : std::to_string(c.cache_size.bytes)) + "\n";
  out += "metadata_ttl = " + std::to_string(c.metadata_ttl) + "\n";
  out += "read_timeout = " + std::to_string(c.read_timeout_ms / 1000) + "\n";
  out += "verification = " + std::string(verification(c.verification)) + "\n";
  if (!c.log_file.empty()) out += "log_file = " + quote(c.log_file) + "\n";
  out += "log_target = " + quote(log::TargetName(c.log_target)) + "\n";
  out += "syslog_socket = " + quote(c.syslog_socket) + "\n";
  out += std::string("by_framework = ") + (c.by_framework ? "true" : "false") + "\n";
  if (!c.staging_dir.empty()) out += "staging_dir = " + quote(c.staging_dir) + "\n";
  out += std::string("import_caches = ") + (c.import_caches ? "true" : "false") + "\n";
  if (c.import_dirs) out += "import_dirs = " + list(*c.import_dirs) + "\n";
  out += "\n[archives]\nviews = " + std::string(c.archives.views ? "true" : "false") +
         "\nmax_members = " + std::to_string(c.archives.limits.max_members) +
         "\nmax_bytes = " + std::to_string(c.archives.limits.max_total_bytes) +
         "\nmax_ratio = " + std::to_string(c.archives.limits.max_ratio) + "\n";
  for (const HubConfig& hub : c.hubs) {
    out += "\n[[hub]]\ntype = " + quote(hub.type) + "\nname = " + quote(hub.name) + "\n";
    if (hub.verification) out += "verification = " + std::string(verification(*hub.verification)) + "\n";
    if (hub.type == "onnx") {
      const auto& r = hub.onnx.repo;
      out += "repo = " + quote(r.owner + "/" + r.name + ":" + r.ref) + "\n";
      out += "raw_base = " + quote(hub.onnx.raw_base) + "\nmedia_base = " + quote(hub.onnx.media_base) + "\n";
    } else if (hub.type == "digits") {
      std::vector<std::string> urls, names;
      for (const auto& store : hub.digits.stores) {
        urls.push_back(store.url);
        names.push_back(store.name);
      }
      out += "urls = " + list(urls) + "\nnames = " + list(names) + "\n";
    } else if (hub.type == "mindspore") {
      out += "git_url = " + quote(hub.mindspore.git_url) + "\nbranches = " + list(hub.mindspore.branches) + "\n";
    } else if (hub.type == "hf") {
      if (hub.hf.endpoint) out += "endpoint = " + quote(*hub.hf.endpoint) + "\n";
      if (hub.hf.token) out += "token = \"(set, not shown)\"\n";
      if (hub.hf.hf_cache) out += "hf_cache = " + quote(*hub.hf.hf_cache) + "\n";
      out += "repos = " + list(hub.hf.repos) + "\n";
    } else if (hub.type == "dms") {
      std::string models;
      for (const auto& model : hub.dms.models) {
        models += (models.empty() ? "" : ", ") + quote(model.name) + " = " + quote(model.location);
      }
      out += "models = { " + models + " }\n";
    }
    if (!hub.mirror.url.empty()) {
      out += "mirror = " + quote(hub.mirror.url) + "\nmirror_fallback = " + (hub.mirror.fallback ? "true" : "false") +
             "\nmirror_token = " + (hub.mirror.send_token ? "true" : "false") + "\n";
      if (!hub.mirror.prefixes.empty()) out += "mirror_prefixes = " + list(hub.mirror.prefixes) + "\n";
    }
  }
  return out;
}

namespace {

std::string EnvString(const EnvLookup& env, const char* name) {
  const char* v = env(name);
  return v ? std::string(v) : std::string();
}

// $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface ("" without a HOME).
std::string HfHome(const EnvLookup& env) {
  std::string hf_home = EnvString(env, "HF_HOME");
  if (hf_home.empty()) {
    const std::string xdg = EnvString(env, "XDG_CACHE_HOME");
    const std::string home = EnvString(env, "HOME");
    hf_home = !xdg.empty() ? xdg + "/huggingface" : (home.empty() ? "" : home + "/.cache/huggingface");
  }
  return hf_home;
}

// The Hugging Face hub cache as huggingface_hub finds it.
std::string HfHubCache(const EnvLookup& env) {
  std::string dir = EnvString(env, "HF_HUB_CACHE");
  if (dir.empty()) dir = EnvString(env, "HUGGINGFACE_HUB_CACHE");
  const std::string hf_home = HfHome(env);
  if (dir.empty() && !hf_home.empty()) dir = hf_home + "/hub";
  return dir;
}

}  // namespace

void ApplyImportEnvironment(const EnvLookup& env, Config* config) {
  if (config->import_dirs) return;  // the configuration's list wins
  std::vector<std::string> candidates;
  // onnx.hub: ONNX_HOME, else XDG_CACHE_HOME, else the home folder; it tests for presence.
  const std::string home = EnvString(env, "HOME");
  if (const std::string onnx_home = EnvString(env, "ONNX_HOME"); !onnx_home.empty()) {
    candidates.push_back(onnx_home + "/hub");
  } else if (const std::string xdg = EnvString(env, "XDG_CACHE_HOME"); !xdg.empty()) {
    candidates.push_back(xdg + "/onnx/hub");
  } else if (!home.empty()) {
    candidates.push_back(home + "/.cache/onnx/hub");
  }
  for (const HubConfig& hub : config->hubs) {
    if (hub.type == "hf" && hub.hf.hf_cache) candidates.push_back(*hub.hf.hf_cache);
  }
  candidates.push_back(HfHubCache(env));
  // The MindSpore Hub client has no variable: its hub_dir is ~/.mscache unless set_hub_dir().
  if (!home.empty()) candidates.push_back(home + "/.mscache");
  std::vector<std::string> dirs;
  for (const std::string& candidate : candidates) {
    if (candidate.empty()) continue;
    std::error_code ec;
    std::string dir = std::filesystem::absolute(candidate, ec).lexically_normal().string();
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    if (ec || std::find(dirs.begin(), dirs.end(), dir) != dirs.end()) continue;
    dirs.push_back(dir);
  }
  config->import_dirs = dirs;
}

Status ApplyHfEnvironment(const EnvLookup& env, Config* config) {
  auto get = [&](const char* name) { return EnvString(env, name); };
  const std::string hf_home = HfHome(env);
  for (HubConfig& hub : config->hubs) {
    if (hub.type != "hf") continue;
    if (!hub.hf.endpoint) {
      std::string endpoint = get("HF_ENDPOINT");
      while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
      if (!endpoint.empty() && endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0) {
        return Status::InvalidArgument("HF_ENDPOINT must be an http:// or https:// URL");
      }
      hub.hf.endpoint = endpoint.empty() ? "https://huggingface.co" : endpoint;
    }
    if (!hub.hf.token) {
      std::string token = get("HF_TOKEN");
      if (token.empty()) {
        std::string path = get("HF_TOKEN_PATH");
        if (path.empty() && !hf_home.empty()) path = hf_home + "/token";
        if (!path.empty()) {
          std::ifstream in(path);
          if (in) std::getline(in, token);
        }
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
        if (!token.empty()) hub.hf.token_file = path;
      }
      while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
      if (!token.empty()) hub.hf.token = token;
    }
    if (!hub.hf.hf_cache) hub.hf.hf_cache = HfHubCache(env);
  }
  return Status();
}

Status AddDigitsStoresFromEnvironment(std::string_view value, Config* config) {
  auto urls = hubs::digits::ParseStoreUrlList(value);
  if (!urls) return Status::InvalidArgument(urls.error().message());  // names the variable already
  if (urls->empty()) return Status();
  HubConfig* target = nullptr;
  for (HubConfig& hub : config->hubs) {
    if (hub.type == "digits") {
      target = &hub;
      break;
    }
  }
  if (!target) {
    for (const HubConfig& hub : config->hubs) {
      if (hub.name == "digits") {
        return Status::InvalidArgument(
            "DIGITS_MODEL_STORE_URL is set, but the folder name 'digits' is taken by a " + hub.type +
            " hub; add a [[hub]] with type = \"digits\" to the configuration instead");
      }
    }
    HubConfig hub;
    hub.type = "digits";
    hub.name = "digits";
    hub.digits.name = "digits";
    config->hubs.push_back(std::move(hub));
    target = &config->hubs.back();
  }
  for (const std::string& url : *urls) target->digits.stores.push_back({url, ""});
  return Status();
}

}  // namespace hubfs::app
