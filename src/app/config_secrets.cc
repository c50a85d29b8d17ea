#include "config_secrets.h"

#include <sys/stat.h>

#include <toml++/toml.h>

#include <cstdio>
#include <optional>

namespace hubfs::app {
namespace {

// The line of the first secret key at or below `node`, if any.
std::optional<int64_t> FindSecret(const toml::node& node) {
  if (const toml::table* table = node.as_table()) {
    for (const auto& [key, value] : *table) {
      if (IsSecretKey(key.str())) return static_cast<int64_t>(key.source().begin.line);
      if (auto line = FindSecret(value)) return line;
    }
  } else if (const toml::array* array = node.as_array()) {
    for (const toml::node& item : *array) {
      if (auto line = FindSecret(item)) return line;
    }
  }
  return std::nullopt;
}

std::string OctalMode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

bool IsSecretKey(std::string_view key) { return key == "token"; }

Status CheckSecretsArePrivate(const std::string& path, mode_t mode, std::string_view text) {
  if ((mode & (S_IRGRP | S_IROTH)) == 0) return Status();
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error&) {
    return Status();  // ParseConfig reports the syntax error
  }
  auto line = FindSecret(root);
  if (!line) return Status();
  const char* who = (mode & S_IROTH) ? "every user" : "its group";
  return Status::InvalidArgument(path + ":" + std::to_string(*line) +
                                 ": holds a token, but the file is readable by " + who + " (mode " +
                                 OctalMode(mode) + "); make it private to the daemon's user: chmod 600 " +
                                 path);
}

}  // namespace hubfs::app
