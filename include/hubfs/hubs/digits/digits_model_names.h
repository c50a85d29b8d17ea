// Which children of a store become model folders. Children come from master.json or a listing
// and are untrusted: each becomes a folder name and a URL path segment. Pure function.
#pragma once

#include <string>
#include <vector>

namespace hubfs::hubs::digits {

struct ModelNames {
  std::vector<std::string> names;    // unique, each passes IsSafeName, in published order
  std::vector<std::string> skipped;  // one line per dropped child: the child (printable) and why
};

// Keeps children that pass IsSafeName (not empty, ".", "..", no '/', NUL or control characters,
// at most 255 bytes), drops repeats, and keeps at most `limit` names. One trailing '/' is
// ignored ("lenet/" is folder "lenet"), as DIGITS' URL joining ignores it.
ModelNames SelectModelNames(const std::vector<std::string>& children, size_t limit);

}  // namespace hubfs::hubs::digits
