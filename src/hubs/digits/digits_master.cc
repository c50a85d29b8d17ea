#include "hubfs/hubs/digits/digits_master.h"

#include <nlohmann/json.hpp>

namespace hubfs::hubs::digits {

Result<MasterJson> ParseMasterJson(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Status::DataLoss("master.json is not valid JSON (single quotes are not JSON)");
  }
  if (!doc.is_object()) return Status::DataLoss("master.json is not a JSON object");
  auto children = doc.find("children");
  if (children == doc.end()) return Status::DataLoss("master.json has no 'children'");
  if (!children->is_array()) return Status::DataLoss("master.json 'children' is not an array");
  MasterJson out;
  if (auto msg = doc.find("msg"); msg != doc.end() && !msg->is_null()) {
    if (!msg->is_string()) return Status::DataLoss("master.json 'msg' is not a string");
    out.msg = msg->get<std::string>();
  }
  out.children.reserve(children->size());
  for (size_t i = 0; i < children->size(); ++i) {
    const nlohmann::json& child = (*children)[i];
    if (child.is_string()) {
      out.children.push_back(child.get<std::string>());
    } else {
      out.skipped.push_back("child " + std::to_string(i) + ": not a string but " +
                            std::string(child.type_name()));
    }
  }
  return out;
}

}  // namespace hubfs::hubs::digits
