#include "hubfs/hubs/digits/digits_model_info.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "hubfs/core/names.h"
#include "printable.h"

namespace hubfs::hubs::digits {
namespace {

using json = nlohmann::json;

Result<json> ParseObject(std::string_view text, const char* what) {
  json doc = json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::DataLoss(std::string(what) + " is not valid JSON");
  if (!doc.is_object()) return Status::DataLoss(std::string(what) + " is not a JSON object");
  return doc;
}

// Adds the file named by `key` when its value is a plain, safe file name.
void AddNamedFile(const json& doc, const char* key, NamedFiles* out) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return;
  const std::string where = std::string("'") + key + "'";
  if (!it->is_string()) {
    out->skipped.push_back(where + " is not a string but " + std::string(it->type_name()));
    return;
  }
  const std::string& name = it->get_ref<const std::string&>();
  if (name == "no snapshots") {
    out->skipped.push_back(where + " says the job has no snapshots");
    return;
  }
  if (!IsSafeName(name)) {
    out->skipped.push_back(where + " " + Printable(name) + " is not a plain file name");
    return;
  }
  if (std::find(out->files.begin(), out->files.end(), name) == out->files.end()) {
    out->files.push_back(name);
  }
}

}  // namespace

Result<NamedFiles> ParseInfoJson(std::string_view text) {
  HUBFS_ASSIGN_OR_RETURN(const json doc, ParseObject(text, "info.json"));
  NamedFiles out;
  for (const char* key : kInfoFileKeys) AddNamedFile(doc, key, &out);
  for (const char* key : kModelFileKeys) {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_string()) continue;
    const std::string& name = it->get_ref<const std::string&>();
    auto in = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), name) != v.end(); };
    if (in(out.files) && !in(out.models)) out.models.push_back(name);
  }
  if (auto it = doc.find("framework"); it != doc.end() && it->is_string()) out.framework = it->get<std::string>();
  return out;
}

Result<NamedFiles> ParseAuxJson(std::string_view text) {
  HUBFS_ASSIGN_OR_RETURN(const json doc, ParseObject(text, "aux.json"));
  NamedFiles out;
  if (auto license = doc.find("license"); license != doc.end() && !license->is_null()) {
    if (license->is_string() && !license->get_ref<const std::string&>().empty()) {
      out.files.push_back(kLicenseFileName);
    } else if (!license->is_string()) {
      out.skipped.push_back("'license' is not a string but " + std::string(license->type_name()));
    }
  }
  AddNamedFile(doc, "logo", &out);
  return out;
}

}  // namespace hubfs::hubs::digits
