// Names that may appear in the mount. Hub metadata is untrusted: every name that becomes a path
// component goes through these checks, so nothing a hub publishes can point outside its folder.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hubfs {

// Linux NAME_MAX: longer components cannot be looked up anyway.
inline constexpr size_t kMaxNameBytes = 255;

// True for a usable path component: non-empty, at most kMaxNameBytes, not "." or "..", and free of
// '/', NUL and other control characters (0x00-0x1f, 0x7f).
bool IsSafeName(std::string_view name);

// Splits a relative '/'-separated path into components. Returns nullopt when the path is absolute,
// has an empty component ("a//b", trailing '/'), or any component fails IsSafeName.
std::optional<std::vector<std::string>> SplitSafePath(std::string_view path);

// A stable folder name for a display name: ASCII lower-case, every run of characters outside
// [a-z0-9._] replaced by one '-', leading/trailing '-' trimmed. "Squeeze Net 1.0" -> "squeeze-net-1.0".
// Returns "" when nothing usable is left (the caller skips the entry).
std::string Slugify(std::string_view name);

// True when the text contains NUL or another control character.
bool HasControlChars(std::string_view text);

}  // namespace hubfs
