#include "model_filter.h"

#include <algorithm>
#include <cctype>

namespace hubfs::app {
namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool IsPrefixFolder(const std::string& folder, const std::string& path) {
  return path.size() > folder.size() && path.compare(0, folder.size(), folder) == 0 && path[folder.size()] == '/';
}

}  // namespace

bool Matches(const ModelFilter& filter, const ModelSummary& model) {
  if (!filter.path.empty() && filter.path != model.path && !IsPrefixFolder(filter.path, model.path) &&
      !IsPrefixFolder(model.path, filter.path)) {
    return false;
  }
  if (!filter.framework.empty() && Lower(filter.framework) != Lower(model.framework)) return false;
  if (!filter.name_contains.empty() && Lower(model.name).find(Lower(filter.name_contains)) == std::string::npos) {
    return false;
  }
  if (!filter.tags.empty()) {
    bool any = false;
    for (const std::string& wanted : filter.tags) {
      for (const std::string& tag : model.tags) any = any || Lower(tag) == Lower(wanted);
    }
    if (!any) return false;
  }
  return true;
}

std::vector<ModelSummary> Select(const ModelFilter& filter, const std::vector<ModelSummary>& models) {
  std::vector<ModelSummary> out;
  std::copy_if(models.begin(), models.end(), std::back_inserter(out),
               [&](const ModelSummary& m) { return Matches(filter, m); });
  return out;
}

}  // namespace hubfs::app
