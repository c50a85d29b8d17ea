// The folders of an HTML directory listing, for stores without master.json (docs/hubs/digits.md).
//
// Like DIGITS' StoreParser, a folder is link text that ends in '/': Apache mod_autoindex tables
// (`<td><a href="x/">x/</a></td>`), nginx autoindex and python http.server lists
// (`<li><a href="x/">x/</a></li>`). hubfs is stricter than DIGITS, because the text becomes a
// folder name and a URL:
//   - "../" and "./" are dropped silently (parent and self links);
//   - text ending in "..>" (a name truncated by Apache's fancy index) is dropped and reported;
//   - a name that fails IsSafeName is dropped and reported;
//   - the link must be relative and point at that very folder: its href, percent-decoded, must be
//     "<name>/" or "./<name>/". Links to other hosts, absolute paths, queries and fragments are
//     dropped and reported. Text outside an <a href> (a bare table cell) is never a folder.
//
// Parsed with libxml2's HTML parser (never with regexes). Pure function: no I/O, safe to fuzz.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hubfs/core/result.h"

namespace hubfs::hubs::digits {

struct HtmlListing {
  std::vector<std::string> folders;  // without the trailing '/', in page order, may repeat
  std::vector<std::string> skipped;  // one line per dropped candidate: the text and why
};

// kDataLoss when libxml2 cannot make a document of the text at all (e.g. empty input). A page
// without folder links is an empty listing, not an error.
Result<HtmlListing> ParseHtmlListing(std::string_view html);

}  // namespace hubfs::hubs::digits
