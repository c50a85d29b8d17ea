// Untrusted text in log lines: quoted, control characters replaced by '?', cut at 80 bytes, so a
// hostile store cannot forge log lines or flood the log.
#pragma once

#include <string>
#include <string_view>

namespace hubfs::hubs::digits {

inline std::string Printable(std::string_view text) {
  constexpr size_t kMaxBytes = 80;
  std::string out = "'";
  for (char c : text.substr(0, kMaxBytes)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  }
  if (text.size() > kMaxBytes) out += "...";
  out += "'";
  return out;
}

}  // namespace hubfs::hubs::digits
