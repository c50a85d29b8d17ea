#include "hubfs/hubs/onnx/onnx_manifest_writer.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

namespace hubfs::hubs::onnx {
namespace {

using json = nlohmann::ordered_json;

json PortsJson(const std::vector<ModelPort>& ports) {
  json out = json::array();
  for (const ModelPort& p : ports) {
    json shape = json::array();
    for (const ModelDim& d : p.shape) {
      if (d.value) {
        shape.push_back(*d.value);
      } else if (!d.param.empty()) {
        shape.push_back(d.param);
      } else {
        shape.push_back(nullptr);
      }
    }
    out.push_back(json{{"name", p.name}, {"shape", std::move(shape)}, {"type", p.type}});
  }
  return out;
}

}  // namespace

std::string WriteManifest(const std::vector<PublishedModel>& models) {
  json doc = json::array();
  for (const PublishedModel& m : models) {
    json meta = json::object();
    meta["model_sha"] = ToHex(m.file.sha256);
    meta["model_bytes"] = m.file.bytes;
    meta["tags"] = m.tags;
    meta["io_ports"] = json{{"inputs", PortsJson(m.inputs)}, {"outputs", PortsJson(m.outputs)}};
    if (m.with_data) {
      meta["model_with_data_path"] = m.with_data->path;
      meta["model_with_data_sha"] = ToHex(m.with_data->sha256);
      meta["model_with_data_bytes"] = m.with_data->bytes;
    }
    json entry = json::object();
    entry["model"] = m.model;
    entry["model_path"] = m.file.path;
    if (!m.onnx_version.empty()) entry["onnx_version"] = m.onnx_version;
    entry["opset_version"] = m.opset;
    entry["metadata"] = std::move(meta);
    doc.push_back(std::move(entry));
  }
  // Invalid UTF-8 in a name (model names come from file names) is replaced, never thrown.
  return doc.dump(4, ' ', false, json::error_handler_t::replace);
}

std::string OnnxVersionOfOpset(int64_t opset) {
  // Opset 5 -> 1.1, 6 -> 1.1.2, 7 -> 1.2, ... 23 -> 1.18 (the ONNX versioning table).
  static constexpr std::array<const char*, 19> kRelease = {
      "1.1",  "1.1.2", "1.2",  "1.3",  "1.4",  "1.5",  "1.6",  "1.7",  "1.8",  "1.9",
      "1.10", "1.11",  "1.12", "1.13", "1.14", "1.15", "1.16", "1.17", "1.18"};
  if (opset < 5) return "1.0";
  if (opset - 5 >= static_cast<int64_t>(kRelease.size())) return "";
  return kRelease[static_cast<size_t>(opset - 5)];
}

std::vector<std::string> TagsFromPath(std::string_view model_path) {
  std::vector<std::string> tags;
  auto add = [&tags](std::string tag) {
    if (!tag.empty() && std::find(tags.begin(), tags.end(), tag) == tags.end()) {
      tags.push_back(std::move(tag));
    }
  };
  size_t start = 0;
  for (size_t slash = model_path.find('/'); slash != std::string_view::npos;
       start = slash + 1, slash = model_path.find('/', start)) {
    std::string tag(model_path.substr(start, slash - start));
    for (char& c : tag) {
      c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (tag == "model" || tag == "models") continue;
    if (tag == "preproc") {
      add("preprocessing");
      continue;
    }
    add(std::move(tag));
  }
  return tags;
}

std::string ModelNameFromStem(std::string_view stem, int64_t opset) {
  const std::string suffix = "-" + std::to_string(opset);
  if (stem.size() > suffix.size() && stem.ends_with(suffix)) {
    return std::string(stem.substr(0, stem.size() - suffix.size()));
  }
  return std::string(stem);
}

}  // namespace hubfs::hubs::onnx
