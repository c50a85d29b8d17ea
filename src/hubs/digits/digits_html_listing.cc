#include "hubfs/hubs/digits/digits_html_listing.h"

#include <optional>

#include "hubfs/core/names.h"
#include "hubfs/hubs/digits/digits_url.h"
#include "html_document.h"
#include "printable.h"

namespace hubfs::hubs::digits {
namespace {

// Link text beyond this is no folder name (those end at 255 bytes); bounding it keeps a page of
// huge links cheap.
constexpr size_t kMaxLinkTextBytes = 4 * kMaxNameBytes;

struct Link {
  std::optional<std::string> href;
  std::string text;
};

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

// Collects every <a> with its text, in document order. Iterative, so deeply nested markup cannot
// exhaust the stack; text of nested links goes to the innermost one.
std::vector<Link> CollectLinks(xmlNode* root) {
  std::vector<Link> links;
  std::vector<size_t> open;  // indexes into `links` of the <a> elements we are inside
  auto enter = [&](xmlNode* node) {
    if (IsElement(node, "a")) {
      links.push_back(Link{Attribute(node, "href"), {}});
      open.push_back(links.size() - 1);
    } else if ((node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE) &&
               !open.empty() && node->content != nullptr) {
      std::string& text = links[open.back()].text;
      if (text.size() <= kMaxLinkTextBytes) {
        std::string_view chunk(reinterpret_cast<const char*>(node->content));
        text.append(chunk.substr(0, kMaxLinkTextBytes + 1 - text.size()));
      }
    }
  };
  auto leave = [&](xmlNode* node) {
    if (IsElement(node, "a")) open.pop_back();
  };
  xmlNode* node = root;
  while (node != nullptr) {
    enter(node);
    if (node->children != nullptr && node->type == XML_ELEMENT_NODE) {
      node = node->children;
      continue;
    }
    // Leave this node and every ancestor that has no next sibling, up to the root.
    while (node != nullptr) {
      leave(node);
      if (node == root) {
        node = nullptr;
      } else if (node->next != nullptr) {
        node = node->next;
        break;
      } else {
        node = node->parent;
      }
    }
  }
  return links;
}

// Why `href` is not the relative link of folder `name`; "" when it is.
std::string HrefProblem(std::string_view href, const std::string& name) {
  if (href.find_first_of("?#") != std::string_view::npos) return "its link has a query or fragment";
  std::string_view first_segment = href.substr(0, href.find('/'));
  if (href.starts_with("//") || first_segment.find(':') != std::string_view::npos) {
    return "its link is an absolute URL";
  }
  if (href.starts_with("/")) return "its link is an absolute path";
  std::string decoded = PercentDecode(href);
  if (decoded.starts_with("./")) decoded.erase(0, 2);
  if (decoded != name + "/") return "its link points elsewhere";
  return "";
}

}  // namespace

Result<HtmlListing> ParseHtmlListing(std::string_view html) {
  HUBFS_ASSIGN_OR_RETURN(HtmlDocument doc, HtmlDocument::Parse(html));
  HtmlListing out;
  for (const Link& link : CollectLinks(doc.root())) {
    const std::string_view text = Trim(link.text);
    if (text.ends_with("..>")) {
      out.skipped.push_back(Printable(text) + ": name truncated by the server");
      continue;
    }
    if (!text.ends_with("/")) continue;  // a file, a sort link, "Parent Directory"
    const std::string name(text.substr(0, text.size() - 1));
    if (name == "." || name == "..") continue;
    if (!IsSafeName(name)) {
      out.skipped.push_back(Printable(text) + ": not a safe folder name");
      continue;
    }
    if (!link.href) {
      out.skipped.push_back(Printable(text) + ": the link has no href");
      continue;
    }
    if (std::string why = HrefProblem(Trim(*link.href), name); !why.empty()) {
      out.skipped.push_back(Printable(text) + ": " + why + " (" + Printable(*link.href) + ")");
      continue;
    }
    out.folders.push_back(name);
  }
  return out;
}

}  // namespace hubfs::hubs::digits
