#include "hubfs/core/names.h"

namespace hubfs {

bool HasControlChars(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool IsSafeName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  if (name == "." || name == "..") return false;
  if (name.find('/') != std::string_view::npos) return false;
  return !HasControlChars(name);
}

std::optional<std::vector<std::string>> SplitSafePath(std::string_view path) {
  std::vector<std::string> parts;
  if (path.empty() || path.front() == '/') return std::nullopt;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
    if (!IsSafeName(part)) return std::nullopt;
    parts.emplace_back(part);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string Slugify(std::string_view name) {
  std::string out;
  bool pending_dash = false;
  for (unsigned char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    if (!keep) {
      pending_dash = true;
      continue;
    }
    if (pending_dash && !out.empty()) out.push_back('-');
    pending_dash = false;
    out.push_back(static_cast<char>(c));
  }
  if (!IsSafeName(out)) return "";
  return out;
}

}  // namespace hubfs
