// `hubfs config check [FILE]`: loads a configuration exactly as `hubfs mount` does (the same
// search order, DIGITS_MODEL_STORE_URL applied, store lists resolved) and prints the effective
// settings, or the first error with its file:line and key.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>

#include "hubfs/app/commands.h"
#include "hubfs/app/config.h"
#include "hubfs/hubs/digits/digits_store.h"
#include "hubfs/net/http_client.h"

namespace hubfs::app {
namespace {

const char* LevelName(log::Level level) {
  switch (level) {
    case log::Level::kDebug: return "debug";
    case log::Level::kInfo: return "info";
    case log::Level::kWarn: return "warn";
    case log::Level::kError: return "error";
  }
  return "?";
}

const char* VerificationName(fs::Verification v) { return v == fs::Verification::kLazy ? "lazy" : "strict"; }

std::string SizeText(const SizeSpec& size) {
  if (size.percent != 0) return std::to_string(size.percent) + "% of the cache's disk";
  return std::to_string(size.bytes) + " bytes";
}

// The digits stores the file itself names per hub (before DIGITS_MODEL_STORE_URL), to tell which
// stores the variable added. Empty for the built-in defaults.
Config WithoutEnvironment(const Config& effective) {
  std::ifstream in(effective.source);
  if (!in) return Config{};
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = ParseConfig(text.str(), effective.source);
  return parsed ? *parsed : Config{};
}

const HubConfig* FindHub(const Config& config, const std::string& name) {
  for (const HubConfig& h : config.hubs) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

void PrintHub(const Config& config, const Config& file_only, const HubConfig& hub, std::ostream& out) {
  out << "hub " << hub.name << ": type " << hub.type << ", verification "
      << VerificationName(hub.verification.value_or(config.verification)) << "\n";
  if (hub.type == "onnx") {
    const auto& repo = hub.onnx.repo;
    const std::string prefix = repo.owner + "/" + repo.name + "/" + repo.ref;
    out << "  manifest  " << net::JoinUrl(net::JoinUrl(hub.onnx.raw_base, prefix), "ONNX_HUB_MANIFEST.json") << "\n"
        << "  files     " << net::JoinUrl(hub.onnx.media_base, prefix) << "/...\n";
  } else if (hub.type == "mindspore") {
    out << "  git_url   " << hub.mindspore.git_url << "\n  branches ";
    for (const std::string& b : hub.mindspore.branches) out << " " << b;
    out << "\n";
  } else if (hub.type == "digits") {
    const HubConfig* before = FindHub(file_only, hub.name);
    const size_t from_file = before && before->type == "digits" ? before->digits.stores.size() : 0;
    auto resolved = hubs::digits::ResolveStores(hub.digits.stores);
    if (!resolved) return;  // LoadConfig has already rejected this
    for (const auto& store : resolved->stores) {
      bool from_env = true;
      for (size_t i = 0; i < from_file; ++i) {
        const std::string& url = hub.digits.stores[i].url;
        from_env = from_env && url != store.base && url + "/" != store.base;
      }
      out << "  store " << store.name << "  " << store.base << (from_env ? "  (from DIGITS_MODEL_STORE_URL)" : "")
          << "\n";
    }
    for (const std::string& w : resolved->warnings) out << "  note: " << w << "\n";
    if (hub.digits.stores.size() > from_file) {
      out << "  DIGITS_MODEL_STORE_URL adds " << hub.digits.stores.size() - from_file << " store URL(s)"
          << (before ? "" : " and creates this hub") << "\n";
    }
  } else if (hub.type == "dms") {
    for (const auto& model : hub.dms.models) {
      out << "  " << hubs::dms::ArchiveFileName(model) << "  " << model.location << "\n";
    }
  }
}

// The archive folders and their limits, in one line.
std::string ArchivesText(const Config& c) {
  if (!c.archives.views) return "off (archives are files only)";
  const auto& l = c.archives.limits;
  return "unpacked folders beside archives; refused beyond " + std::to_string(l.max_members) + " members, " +
         std::to_string(l.max_total_bytes >> 20) + " MiB unpacked or " + std::to_string(l.max_ratio) +
         " times their size";
}

// Where `hubfs mount` will log (mount_command.cc decides the same way).
std::string LogTargetText(const Config& c) {
  const std::string file = c.log_file.empty() ? c.cache_dir + "/hubfs.log" : c.log_file;
  switch (c.log_target) {
    case log::Target::kStderr: return "stderr";
    case log::Target::kFile: return "file " + file;
    case log::Target::kSyslog: return "syslog " + c.syslog_socket;
    case log::Target::kAuto: break;
  }
  if (!c.log_file.empty()) return "auto: file " + c.log_file;
  return "auto: stderr with --foreground; detached: syslog " + c.syslog_socket + " when that socket exists, else file " +
         file;
}

// The client caches a mount imports from (import_caches, import_dirs), one per line.
std::string ImportText(const Config& c) {
  if (!c.import_caches) return "off (import_caches = false)\n";
  if (!c.import_dirs || c.import_dirs->empty()) return "on, but no folders to look in\n";
  std::string out = "on, looking in:\n";
  for (const std::string& dir : *c.import_dirs) {
    std::error_code ec;
    out += "  " + dir + (std::filesystem::is_directory(dir, ec) ? "" : "  (not there now)") + "\n";
  }
  return out;
}

}  // namespace

int RunConfigCheck(const std::string& path, std::ostream& out, std::ostream& err) {
  auto config = LoadConfig(path);
  if (!config) {
    err << "hubfs config check: " << config.error().message() << "\n";
    return 1;
  }
  std::string names;
  for (const HubConfig& h : config->hubs) names += (names.empty() ? "" : ", ") + h.name;
  out << config->source << ": ok (" << config->hubs.size() << (config->hubs.size() == 1 ? " hub: " : " hubs: ")
      << names << ")\n";
  out << "cache_dir     " << config->cache_dir << "\n"
      << "cache_size    " << SizeText(config->cache_size) << "\n"
      << "metadata_ttl  " << config->metadata_ttl << "s\n"
      << "read_timeout  " << config->read_timeout_ms / 1000 << "s\n"
      << "verification  " << VerificationName(config->verification) << "\n"
      << "log_level     " << LevelName(config->log_level) << "\n"
      << "log_target    " << LogTargetText(*config) << "\n"
      << "archives      " << ArchivesText(*config) << "\n"
      << "import        " << ImportText(*config);
  const Config file_only = WithoutEnvironment(*config);
  for (const HubConfig& hub : config->hubs) PrintHub(*config, file_only, hub, out);
  return 0;
}

}  // namespace hubfs::app
