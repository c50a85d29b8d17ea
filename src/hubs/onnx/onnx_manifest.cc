#include "hubfs/hubs/onnx/onnx_manifest.h"

#include <nlohmann/json.hpp>

#include "hubfs/core/names.h"

namespace hubfs::hubs::onnx {
namespace {

// ordered_json keeps keys in published order, so info.json shows entries as the hub wrote them.
using json = nlohmann::ordered_json;

bool IsSafeUrlPart(std::string_view part) { return IsSafeName(part); }

// Reads an optional "<prefix>_sha" / "<prefix>_bytes" pair. A present but malformed value makes
// the whole entry unusable: verifying against a value we misread would be worse than skipping.
Result<ManifestFile> ReadFile(const json& meta, const std::string& path, const char* sha_key,
                              const char* bytes_key) {
  ManifestFile file;
  file.path = path;
  if (auto it = meta.find(sha_key); it != meta.end() && !it->is_null()) {
    if (!it->is_string()) return Status::DataLoss(std::string(sha_key) + " is not a string");
    auto digest = DigestFromHex(it->get_ref<const std::string&>());
    if (!digest) return Status::DataLoss(std::string(sha_key) + " is not 64 hex digits");
    file.sha256 = *digest;
  }
  if (auto it = meta.find(bytes_key); it != meta.end() && !it->is_null()) {
    if (!it->is_number_unsigned()) {
      return Status::DataLoss(std::string(bytes_key) + " is not a non-negative integer");
    }
    file.bytes = it->get<uint64_t>();
  }
  return file;
}

Result<ManifestEntry> ReadEntry(const json& e) {
  if (!e.is_object()) return Status::DataLoss("not an object");
  auto model = e.find("model");
  auto path = e.find("model_path");
  auto opset = e.find("opset_version");
  if (model == e.end() || !model->is_string()) return Status::DataLoss("no string 'model'");
  if (path == e.end() || !path->is_string()) return Status::DataLoss("no string 'model_path'");
  if (opset == e.end() || !opset->is_number_integer()) {
    return Status::DataLoss("no integer 'opset_version'");
  }
  static const json kEmpty = json::object();
  const json* meta = &kEmpty;
  if (auto m = e.find("metadata"); m != e.end() && !m->is_null()) {
    if (!m->is_object()) return Status::DataLoss("'metadata' is not an object");
    meta = &*m;
  }
  ManifestEntry entry;
  entry.model = model->get<std::string>();
  auto opset_value = opset->get<int64_t>();
  if (opset_value < 0 || opset_value > 100000) return Status::DataLoss("opset_version out of range");
  entry.opset = static_cast<int>(opset_value);
  HUBFS_ASSIGN_OR_RETURN(entry.model_file,
                         ReadFile(*meta, path->get<std::string>(), "model_sha", "model_bytes"));
  if (auto p = meta->find("model_with_data_path"); p != meta->end() && !p->is_null()) {
    if (!p->is_string()) return Status::DataLoss("'model_with_data_path' is not a string");
    HUBFS_ASSIGN_OR_RETURN(entry.with_data, ReadFile(*meta, p->get<std::string>(),
                                                     "model_with_data_sha", "model_with_data_bytes"));
  }
  entry.raw_json = e.dump();
  return entry;
}

}  // namespace

Result<RepoSpec> ParseRepoSpec(std::string_view text) {
  RepoSpec spec;
  std::string_view before_colon = text.substr(0, text.find(':'));
  size_t slash = before_colon.find('/');
  if (slash == std::string_view::npos) {
    return Status::InvalidArgument("repo '" + std::string(text) + "' is not owner/name[:ref]");
  }
  spec.owner = std::string(before_colon.substr(0, slash));
  std::string_view rest = before_colon.substr(slash + 1);
  spec.name = std::string(rest.substr(0, rest.find('/')));
  spec.ref = "main";
  if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    std::string_view after = text.substr(colon + 1);
    spec.ref = std::string(after.substr(0, after.find(':')));
  }
  if (!IsSafeUrlPart(spec.owner) || !IsSafeUrlPart(spec.name) || spec.ref.empty() ||
      HasControlChars(spec.ref) || spec.ref.find("..") != std::string::npos) {
    return Status::InvalidArgument("repo '" + std::string(text) + "' is not owner/name[:ref]");
  }
  return spec;
}

Result<ParsedManifest> ParseManifest(std::string_view text) {
  json doc = json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::DataLoss("manifest is not valid JSON");
  if (!doc.is_array()) return Status::DataLoss("manifest is not a JSON array");
  ParsedManifest out;
  out.entries.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    auto entry = ReadEntry(doc[i]);
    if (entry) {
      out.entries.push_back(std::move(entry).value());
    } else {
      out.skipped.push_back("entry " + std::to_string(i) + ": " + entry.error().message());
    }
  }
  return out;
}

}  // namespace hubfs::hubs::onnx
