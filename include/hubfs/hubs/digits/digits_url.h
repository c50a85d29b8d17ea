// URL pieces of a DIGITS store. Stores are plain static HTTP servers; folder and file names from
// master.json, listings and info.json are appended to the base URL as one path segment each.
#pragma once

#include <string>
#include <string_view>

namespace hubfs::hubs::digits {

// Percent-encodes everything but RFC 3986 unreserved characters and the sub-delimiters, ':' and
// '@' (what may appear in a path segment unencoded), so "a b" -> "a%20b", "a/b" -> "a%2Fb",
// "50%" -> "50%25".
std::string EncodePathSegment(std::string_view segment);

// Decodes %XX escapes; a '%' not followed by two hex digits is kept as is. '+' is not a space.
std::string PercentDecode(std::string_view text);

// `url` with exactly one trailing '/'.
std::string WithTrailingSlash(std::string_view url);

// "<base><model>/<file>" with both names encoded; `base` ends in '/'.
std::string ModelFileUrl(const std::string& base, std::string_view model, std::string_view file);

}  // namespace hubfs::hubs::digits
