// HtmlDocument: one libxml2 HTML document, owned. The only code that creates or frees libxml2
// documents and strings, so the listing parser never handles libxml2 memory itself.
//
// Thread-safety: each document is used by one thread; libxml2 is initialised once, thread-safely.
#pragma once

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hubfs/core/result.h"

namespace hubfs::hubs::digits {

class HtmlDocument {
 public:
  // Parses `html` as UTF-8 with libxml2's forgiving HTML parser: no network access, no error
  // output, broken markup repaired as browsers would. kDataLoss when no document results (empty
  // input) or the text is too large for libxml2.
  static Result<HtmlDocument> Parse(std::string_view html);

  // The root element; never null.
  xmlNode* root() const { return root_; }

 private:
  struct FreeDoc {
    void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
  };
  HtmlDocument(std::unique_ptr<xmlDoc, FreeDoc> doc, xmlNode* root)
      : doc_(std::move(doc)), root_(root) {}

  std::unique_ptr<xmlDoc, FreeDoc> doc_;
  xmlNode* root_;
};

// True for an element named `name` (ASCII, case-insensitive).
bool IsElement(const xmlNode* node, const char* name);

// The value of attribute `name` of an element; nullopt when it has none.
std::optional<std::string> Attribute(const xmlNode* node, const char* name);

}  // namespace hubfs::hubs::digits
