#include "model_table.h"

#include <array>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "hubfs/hubs/hf/hf_api.h"

namespace hubfs::app {
namespace {

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

std::array<std::string, 6> Columns(const ModelSummary& m) {
  std::string tags;
  for (const std::string& t : m.tags) tags += (tags.empty() ? "" : ",") + t;
  std::string version = m.version;
  if (!m.opsets.empty()) version = "opset " + version;
  if (hubs::hf::IsCommitId(version)) version.resize(7);
  std::string size = m.size ? HumanSize(*m.size) : "-";
  if (m.files) size += " (" + std::to_string(*m.files) + (*m.files == 1 ? " file)" : " files)");
  return {m.hub + "/" + m.path, OrDash(m.name), OrDash(version), OrDash(m.framework), OrDash(tags), size};
}

}  // namespace

std::string HumanSize(uint64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + "B";
  static constexpr char kUnits[] = "KMGTPE";
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < sizeof kUnits - 1) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, value < 10 ? "%.1f%c" : "%.0f%c", value, kUnits[unit]);
  return buf;
}

std::string FormatTable(const std::vector<ModelSummary>& models) {
  std::vector<std::array<std::string, 6>> rows;
  std::array<size_t, 6> width{};
  for (const ModelSummary& m : models) {
    rows.push_back(Columns(m));
    for (size_t i = 0; i < width.size(); ++i) width[i] = std::max(width[i], rows.back()[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string FormatJson(const std::vector<ModelSummary>& models) {
  nlohmann::json array = nlohmann::json::array();
  for (const ModelSummary& m : models) {
    nlohmann::json o{{"hub", m.hub},           {"path", m.path}, {"name", m.name},
                     {"version", m.version},   {"framework", m.framework},
                     {"tags", m.tags},         {"size", nullptr}};
    if (m.size) o["size"] = *m.size;
    if (!m.opsets.empty()) o["opsets"] = m.opsets;
    if (m.files) {
      o["files"] = *m.files;
      o["gated"] = m.gated;
    }
    array.push_back(std::move(o));
  }
  // Names come from untrusted documents: invalid UTF-8 is replaced, never a crash.
  return array.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace hubfs::app
