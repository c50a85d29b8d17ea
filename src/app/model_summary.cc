#include "model_summary.h"

#include <algorithm>
#include <cctype>
#include <map>

#include <nlohmann/json.hpp>

#include "hf_summary.h"
#include "hubfs/hubs/mindspore/mindspore_markdown.h"

namespace hubfs::app {
namespace {

using hubs::Entry;
using hubs::EntryKind;

// A file generated from the listing's documents (info.json, .md): content, no remote.
bool IsDocument(const Entry& e, size_t depth) {
  return e.kind == EntryKind::kFile && !e.remote && e.path.size() == depth;
}

std::string Join(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

void AddTag(std::vector<std::string>* tags, const std::string& tag) {
  if (tag.empty()) return;
  for (const std::string& t : *tags) {
    if (Lower(t) == Lower(tag)) return;
  }
  tags->push_back(tag);
}

std::string StringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<ModelSummary> OnnxModel(const std::string& hub, const Entry& info) {
  auto doc = nlohmann::json::parse(info.content, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array() || doc.empty()) return std::nullopt;
  ModelSummary m;
  m.hub = hub;
  m.path = Join(info.path, 2);
  m.framework = "onnx";
  int best = -1;
  for (const auto& entry : doc) {
    if (!entry.is_object()) continue;
    if (m.name.empty()) m.name = StringField(entry, "model");
    auto opset = entry.find("opset_version");
    if (opset == entry.end() || !opset->is_number_integer()) continue;
    const int value = opset->get<int>();
    m.opsets.push_back(value);
    auto meta = entry.find("metadata");
    if (meta == entry.end() || !meta->is_object()) continue;
    if (auto tags = meta->find("tags"); tags != meta->end() && tags->is_array()) {
      for (const auto& tag : *tags) {
        if (tag.is_string()) AddTag(&m.tags, tag.get<std::string>());
      }
    }
    // The largest opset, first on ties (the file model.onnx points to).
    if (value > best) {
      best = value;
      auto bytes = meta->find("model_bytes");
      m.size = bytes != meta->end() && bytes->is_number_unsigned() ? std::optional(bytes->get<uint64_t>())
                                                                   : std::nullopt;
    }
  }
  if (m.name.empty()) return std::nullopt;
  std::sort(m.opsets.begin(), m.opsets.end());
  m.opsets.erase(std::unique(m.opsets.begin(), m.opsets.end()), m.opsets.end());
  for (int opset : m.opsets) m.version += (m.version.empty() ? "" : ",") + std::to_string(opset);
  return m;
}

Summaries SummarizeOnnx(const std::string& hub, const hubs::Listing& listing) {
  Summaries out;
  for (const Entry& e : listing.entries) {
    if (!IsDocument(e, 3) || e.path[2] != "info.json" || e.path[0] == "tree") continue;
    if (auto m = OnnxModel(hub, e)) out.models.push_back(std::move(*m));
  }
  return out;
}

// One line from a store's ERROR.txt: its "URLs tried:" block as "<url>: <problem>; ...", or the
// first line when there is no such block.
std::string StoreErrorReason(const std::string& text) {
  std::string reason, line;
  bool in_block = false;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    line = text.substr(start, end - start);
    start = end + 1;
    if (line == "URLs tried:") {
      in_block = true;
    } else if (in_block && line.rfind("    ", 0) == 0) {
      reason += ": " + line.substr(4);
    } else if (in_block && line.rfind("  ", 0) == 0) {
      reason += (reason.empty() ? "" : "; ") + line.substr(2);
    } else if (in_block) {
      break;
    }
  }
  return reason.empty() ? text.substr(0, text.find('\n')) : reason;
}

Summaries SummarizeDigits(const std::string& hub, const hubs::Listing& listing) {
  Summaries out;
  std::map<std::string, std::string> datasets;  // model folder -> aux.json dataset
  for (const Entry& e : listing.entries) {
    if (!IsDocument(e, 3) || e.path[2] != "aux.json") continue;
    auto aux = nlohmann::json::parse(e.content, nullptr, false);
    if (aux.is_object()) datasets[Join(e.path, 2)] = StringField(aux, "dataset");
  }
  for (const Entry& e : listing.entries) {
    if (IsDocument(e, 2) && e.path[1] == "ERROR.txt") {
      out.failures.push_back("store " + e.path[0] + ": " + StoreErrorReason(e.content));
      continue;
    }
    if (!IsDocument(e, 3) || e.path[2] != "info.json") continue;
    auto info = nlohmann::json::parse(e.content, nullptr, false);
    if (!info.is_object()) continue;
    ModelSummary m;
    m.hub = hub;
    m.path = Join(e.path, 2);
    m.name = StringField(info, "name");
    if (m.name.empty()) m.name = e.path[1];
    m.framework = Lower(StringField(info, "framework"));
    if (!m.framework.empty()) m.version = StringField(info, (m.framework + " version").c_str());
    if (auto it = datasets.find(m.path); it != datasets.end()) AddTag(&m.tags, it->second);
    out.models.push_back(std::move(m));
  }
  return out;
}

Summaries SummarizeMindSpore(const std::string& hub, const hubs::Listing& listing) {
  Summaries out;
  for (const Entry& e : listing.entries) {
    // The English asset file <version>/<model>/<model>.md; the _cn twin is never parsed.
    if (!IsDocument(e, 3) || e.path[2] != e.path[1] + ".md") continue;
    auto md = hubs::mindspore::ParseAssetMarkdown(e.content);
    if (!md) continue;
    ModelSummary m;
    m.hub = hub;
    m.path = Join(e.path, 2);
    m.name = md->Scalar("model-name").value_or(e.path[1]);
    m.version = md->Scalar("model-version").value_or("");
    m.framework = "mindspore";
    for (const char* key : {"module-type", "backbone-name", "train-dataset"}) {
      AddTag(&m.tags, md->Scalar(key).value_or(""));
    }
    out.models.push_back(std::move(m));
  }
  return out;
}

}  // namespace

void AddFolderSizes(const hubs::Listing& listing,
                    const std::function<std::optional<uint64_t>(const hubs::RemoteObject&)>& size_of,
                    std::vector<ModelSummary>* models) {
  struct Total {
    uint64_t bytes = 0;
    bool complete = true;
    bool any = false;
  };
  std::map<std::string, Total> totals;  // model folder -> its files
  for (const ModelSummary& m : *models) {
    if (!m.size) totals.emplace(m.path, Total{});
  }
  if (totals.empty()) return;
  for (const Entry& e : listing.entries) {
    if (e.kind != EntryKind::kFile || !e.remote) continue;
    std::string folder;
    for (size_t depth = 0; depth + 1 < e.path.size(); ++depth) {
      folder += (depth ? "/" : "") + e.path[depth];
      auto it = totals.find(folder);
      if (it == totals.end()) continue;
      it->second.any = true;
      const std::optional<uint64_t> size = e.remote->size ? e.remote->size : size_of(*e.remote);
      if (size) it->second.bytes += *size;
      else it->second.complete = false;
      break;
    }
  }
  for (ModelSummary& m : *models) {
    if (m.size) continue;
    const Total& t = totals[m.path];
    if (t.any && t.complete) m.size = t.bytes;
  }
}

Summaries SummarizeListing(std::string_view hub_type, const std::string& hub_name, const hubs::Listing& listing,
                           const RepoInfoOf& repo_info) {
  if (hub_type == "hf") return SummarizeHf(hub_name, listing, repo_info);
  if (hub_type == "digits") return SummarizeDigits(hub_name, listing);
  if (hub_type == "mindspore") return SummarizeMindSpore(hub_name, listing);
  return SummarizeOnnx(hub_name, listing);
}

}  // namespace hubfs::app
