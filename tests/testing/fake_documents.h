// FakeDocuments: a DocumentSource serving documents from a map, for hub adapter tests.
// A URL not in the map is a 404 (kNotFound with http_status 404), as from a real server.
// Every request is recorded, with whether it asked to revalidate (hubfs refresh).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "hubfs/hubs/hub.h"

namespace hubfs::test {

class FakeDocuments final : public hubs::DocumentSource {
 public:
  using DocumentSource::Get;
  Result<Document> Get(const std::string& url, const GetOptions& options) override {
    requests.push_back(url);
    if (options.revalidate) revalidated.push_back(url);
    auto it = documents.find(url);
    if (it == documents.end()) return Status::NotFound("GET " + url + ": HTTP 404").WithHttpStatus(404);
    return it->second;
  }
  // Adds a fresh document with `body`.
  void Put(const std::string& url, std::string body) {
    Document doc;
    doc.body = std::move(body);
    documents.insert_or_assign(url, std::move(doc));
  }

  std::map<std::string, Result<Document>> documents;
  std::vector<std::string> requests;
  std::vector<std::string> revalidated;
};

}  // namespace hubfs::test
