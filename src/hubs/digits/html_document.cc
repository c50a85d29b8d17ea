#include "html_document.h"

#include <libxml/parser.h>
#include <libxml/xmlmemory.h>

#include <climits>
#include <mutex>

namespace hubfs::hubs::digits {

Result<HtmlDocument> HtmlDocument::Parse(std::string_view html) {
  static std::once_flag init;
  std::call_once(init, [] { xmlInitParser(); });
  if (html.size() > static_cast<size_t>(INT_MAX)) {
    return Status::DataLoss("the HTML page is too large to parse");
  }
  constexpr int kOptions =
      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET;
  std::unique_ptr<xmlDoc, FreeDoc> doc(htmlReadMemory(html.data(), static_cast<int>(html.size()),
                                                      /*URL=*/nullptr, "UTF-8", kOptions));
  if (doc == nullptr) return Status::DataLoss("not an HTML document");
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr) return Status::DataLoss("the HTML page has no elements");
  return HtmlDocument(std::move(doc), root);
}

bool IsElement(const xmlNode* node, const char* name) {
  return node->type == XML_ELEMENT_NODE && node->name != nullptr &&
         xmlStrcasecmp(node->name, reinterpret_cast<const xmlChar*>(name)) == 0;
}

std::optional<std::string> Attribute(const xmlNode* node, const char* name) {
  struct FreeString {
    void operator()(xmlChar* s) const { xmlFree(s); }
  };
  std::unique_ptr<xmlChar, FreeString> value(
      xmlGetProp(node, reinterpret_cast<const xmlChar*>(name)));
  if (value == nullptr) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(value.get()));
}

}  // namespace hubfs::hubs::digits
