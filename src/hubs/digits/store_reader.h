// StoreReader: lists one DIGITS store through a DocumentSource (docs/hubs/digits.md).
//
//   1. GET <base>master.json; when that fails or is unusable, GET <base> and read its HTML
//      listing. Neither gives a model folder: the store fails, with every URL tried and why.
//   2. For each model: GET info.json and aux.json (404: absent), then license.txt and the logo
//      when aux.json names them (404: absent). Files info.json names are not requested.
//
// Unusable children, keys and files are skipped with a logged warning; only step 1 can fail.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "hubfs/hubs/digits/digits_store.h"
#include "hubfs/hubs/hub.h"

namespace hubfs::hubs::digits {

struct StoreListing {
  std::vector<Entry> entries;  // the models and their files: paths <store>/<model>[/<file>]
  int64_t fetched_at = 0;      // when the model list (master.json or the page) was fetched
};

class StoreReader {
 public:
  StoreReader(const std::string& hub, const Store& store, DocumentSource& documents, bool refresh);

  // The store's models and their files. An error whose message is a readable
  // account of the URLs tried when no model list could be read.
  Result<StoreListing> Read();

 private:
  Result<std::vector<std::string>> ReadChildren(int64_t* fetched_at);
  void AddModel(const std::string& model, std::vector<Entry>* out);
  // Adds <model>/<file> for an optional file aux.json names: inline when present and small.
  void AddOptionalFile(const std::string& model, const std::string& file, std::vector<Entry>* out);
  Result<DocumentSource::Document> Get(const std::string& url);
  Entry MakeEntry(const std::string& model, const std::string& file) const;

  const std::string& hub_;
  const Store& store_;
  DocumentSource& documents_;
  const bool refresh_;
  int stale_documents_ = 0;
  std::string stale_reason_;
};

}  // namespace hubfs::hubs::digits
