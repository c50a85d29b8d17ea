#include "hubfs/hubs/digits/digits_model_names.h"

#include <set>
#include <string_view>

#include "hubfs/core/names.h"
#include "printable.h"

namespace hubfs::hubs::digits {

ModelNames SelectModelNames(const std::vector<std::string>& children, size_t limit) {
  ModelNames out;
  std::set<std::string_view> seen;
  for (const std::string& published : children) {
    // DIGITS joins URLs with os.path.join, so "lenet/" works there; it names folder "lenet".
    std::string_view child = published;
    if (child.size() > 1 && child.back() == '/') child.remove_suffix(1);
    if (!IsSafeName(child)) {
      out.skipped.push_back("model " + Printable(child) + ": not a safe folder name");
    } else if (!seen.insert(child).second) {
      out.skipped.push_back("model " + Printable(child) + ": listed twice");
    } else if (out.names.size() == limit) {
      out.skipped.push_back("model " + Printable(child) + ": more than " + std::to_string(limit) +
                            " models");
    } else {
      out.names.emplace_back(child);
    }
  }
  return out;
}

}  // namespace hubfs::hubs::digits
