#include "hubfs/hubs/digits/digits_hub.h"
#include "testing/fake_documents.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace hubfs::hubs::digits {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

using test::FakeDocuments;

constexpr char kA[] = "http://127.0.0.1:8080/storeA/";
constexpr char kB[] = "http://127.0.0.1:8080/storeB/";
constexpr char kC[] = "http://127.0.0.1:8080/storeC/";

constexpr char kLenetInfo[] = R"({
    "name": "LeNet", "framework": "caffe", "username": "fixture", "note": "",
    "snapshot file": "snapshot_iter_100.caffemodel", "model file": "original.prototxt",
    "labels file": "labels.txt", "mean file": "mean.binaryproto",
    "image dimensions": [28, 28, 1], "digits version": "6.1.1"})";
constexpr char kLenetAux[] =
    R"({"license": "3-clause BSD license", "logo": "logo.png", "dataset": "MNIST", "affiliate": "Fixture"})";
constexpr char kAlexnetInfo[] = R"({"name": "AlexNet", "framework": "caffe",
    "snapshot file": "snapshot_iter_9.caffemodel", "network file": "network.prototxt"})";

DigitsHubOptions Options(std::vector<StoreSpec> stores) {
  DigitsHubOptions o;
  o.name = "digits";
  o.stores = std::move(stores);
  return o;
}

// Store A of the fixture plan: master.json with four models.
void PutStoreA(FakeDocuments* docs) {
  const std::string a = kA;
  docs->Put(a + "master.json",
            R"({"msg": "Fixture store A", "children": ["lenet", "alexnet", "broken", "noinfo"]})");
  docs->Put(a + "lenet/info.json", kLenetInfo);
  docs->Put(a + "lenet/aux.json", kLenetAux);
  docs->Put(a + "lenet/license.txt", "BSD 3-Clause License\n");
  docs->Put(a + "lenet/logo.png", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
  docs->Put(a + "alexnet/info.json", kAlexnetInfo);
  docs->Put(a + "broken/info.json", R"({"snapshot file": "missing.caffemodel", "model file": "m.prototxt"})");
}

const Entry* Find(const Listing& listing, const std::vector<std::string>& path) {
  for (const Entry& e : listing.entries) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

std::set<std::string> Children(const Listing& listing, const std::vector<std::string>& dir) {
  std::set<std::string> names;
  for (const Entry& e : listing.entries) {
    if (e.path.size() == dir.size() + 1 && std::equal(dir.begin(), dir.end(), e.path.begin())) {
      names.insert(e.path.back());
    }
  }
  return names;
}

std::string RemoteUrl(const Listing& listing, const std::vector<std::string>& path) {
  const Entry* e = Find(listing, path);
  if (e == nullptr || !e->remote) return "";
  EXPECT_FALSE(e->remote->size.has_value());
  EXPECT_FALSE(e->remote->sha256.has_value());
  return e->remote->url;
}

TEST(DigitsHubTest, MasterJsonStoreListsModelsAndTheirFiles) {
  FakeDocuments docs;
  PutStoreA(&docs);
  DigitsHub hub(Options({{kA, ""}}), docs);
  EXPECT_EQ(hub.name(), "digits");
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok()) << listing.error().ToString();

  EXPECT_THAT(Children(*listing, {}), ElementsAre("storeA"));
  EXPECT_THAT(Children(*listing, {"storeA"}),
              UnorderedElementsAre("lenet", "alexnet", "broken", "noinfo"));
  EXPECT_THAT(Children(*listing, {"storeA", "lenet"}),
              UnorderedElementsAre("info.json", "aux.json", "snapshot_iter_100.caffemodel",
                                   "original.prototxt", "labels.txt", "mean.binaryproto",
                                   "license.txt", "logo.png"));
  EXPECT_EQ(Find(*listing, {"storeA", "lenet"})->kind, EntryKind::kDirectory);
  EXPECT_EQ(Find(*listing, {"storeA", "lenet", "info.json"})->content, kLenetInfo);
  EXPECT_EQ(Find(*listing, {"storeA", "lenet", "aux.json"})->content, kLenetAux);
  EXPECT_EQ(Find(*listing, {"storeA", "lenet", "license.txt"})->content, "BSD 3-Clause License\n");
  EXPECT_EQ(Find(*listing, {"storeA", "lenet", "logo.png"})->content.size(), 10u);
  EXPECT_FALSE(Find(*listing, {"storeA", "lenet", "logo.png"})->remote.has_value());
  EXPECT_EQ(RemoteUrl(*listing, {"storeA", "lenet", "snapshot_iter_100.caffemodel"}),
            std::string(kA) + "lenet/snapshot_iter_100.caffemodel");
  EXPECT_EQ(RemoteUrl(*listing, {"storeA", "lenet", "labels.txt"}),
            std::string(kA) + "lenet/labels.txt");

  // Legacy "network file"; no aux.json, so no aux.json, license.txt or logo.
  EXPECT_THAT(Children(*listing, {"storeA", "alexnet"}),
              UnorderedElementsAre("info.json", "snapshot_iter_9.caffemodel", "network.prototxt"));
  // A named file that is missing on the server is still listed: it is never requested here.
  EXPECT_EQ(RemoteUrl(*listing, {"storeA", "broken", "missing.caffemodel"}),
            std::string(kA) + "broken/missing.caffemodel");
  // No info.json: an empty model folder.
  ASSERT_NE(Find(*listing, {"storeA", "noinfo"}), nullptr);
  EXPECT_THAT(Children(*listing, {"storeA", "noinfo"}), IsEmpty());

  // Named files are never fetched while listing; only the listing documents are.
  EXPECT_THAT(docs.requests, Not(Contains(std::string(kA) + "lenet/snapshot_iter_100.caffemodel")));
  EXPECT_THAT(docs.requests, Not(Contains(std::string(kA))));  // master.json worked
  EXPECT_THAT(docs.requests, Contains(std::string(kA) + "noinfo/aux.json"));
}

TEST(DigitsHubTest, ListingOnlyStoreUsesTheHtmlPage) {
  FakeDocuments docs;
  const std::string b = kB;
  docs.Put(b, R"(<html><body><h1>Index of /storeB</h1><table>
      <tr><td><a href="/">Parent Directory</a></td></tr>
      <tr><td><a href="lenet/">lenet/</a></td></tr>
      <tr><td><a href="a%20very%20long%20model%20folder%20name/">a very long model fol..&gt;</a></td></tr>
      <tr><td><a href="http://evil.test/x/">x/</a></td></tr>
      <tr><td><a href="my%20model/">my model/</a></td></tr>
      </table></body></html>)");
  docs.Put(b + "lenet/info.json", kLenetInfo);
  docs.Put(b + "my%20model/info.json", R"({"snapshot file": "w 1.caffemodel"})");
  DigitsHub hub(Options({{kB, ""}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok()) << listing.error().ToString();
  EXPECT_THAT(Children(*listing, {"storeB"}), UnorderedElementsAre("lenet", "my model"));
  EXPECT_EQ(RemoteUrl(*listing, {"storeB", "my model", "w 1.caffemodel"}),
            b + "my%20model/w%201.caffemodel");
  EXPECT_EQ(docs.requests[0], b + "master.json");
  EXPECT_EQ(docs.requests[1], b);
}

TEST(DigitsHubTest, PythonStyleListingWorksToo) {
  FakeDocuments docs;
  docs.Put(kB, "<ul><li><a href=\"googlenet/\">googlenet/</a></li><li><a href=\"x.txt\">x.txt</a></li></ul>");
  DigitsHub hub(Options({{kB, "python"}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(Children(*listing, {"python"}), ElementsAre("googlenet"));
}

TEST(DigitsHubTest, FailingStoreShowsErrorTxtAndNeverHidesTheOthers) {
  FakeDocuments docs;
  PutStoreA(&docs);
  const std::string c = kC;
  docs.documents.emplace(c + "master.json",
                         Status::Unavailable("GET " + c + "master.json: HTTP 500").WithHttpStatus(500));
  docs.documents.emplace(c, Status::DeadlineExceeded("GET " + c + ": timed out"));
  DigitsHub hub(Options({{kC, ""}, {kA, ""}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok()) << listing.error().ToString();
  EXPECT_THAT(Children(*listing, {}), UnorderedElementsAre("storeA", "storeC"));
  EXPECT_THAT(Children(*listing, {"storeC"}), ElementsAre("ERROR.txt"));
  const std::string& error = Find(*listing, {"storeC", "ERROR.txt"})->content;
  EXPECT_THAT(error, HasSubstr("'storeC' (" + c + ") could not be listed"));
  EXPECT_THAT(error, HasSubstr(c + "master.json\n    Unavailable: GET " + c + "master.json: HTTP 500"));
  EXPECT_THAT(error, HasSubstr("timed out"));
  EXPECT_THAT(Children(*listing, {"storeA"}),
              UnorderedElementsAre("lenet", "alexnet", "broken", "noinfo"));
}

TEST(DigitsHubTest, GarbageMasterJsonFallsBackToTheListing) {
  FakeDocuments docs;
  const std::string b = kB;
  docs.Put(b + "master.json", "{'msg': 'old docs', 'children': ['lenet']}");
  docs.Put(b, "<a href=\"lenet/\">lenet/</a>");
  DigitsHub hub(Options({{kB, ""}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(Children(*listing, {"storeB"}), ElementsAre("lenet"));
}

TEST(DigitsHubTest, GarbageMasterJsonAndNoUsableListingIsAnErrorTxt) {
  FakeDocuments docs;
  const std::string b = kB;
  docs.Put(b + "master.json", "<html>oops</html>");
  docs.Put(b, "<html><body>It works!</body></html>");
  DigitsHub hub(Options({{kB, ""}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  const Entry* error = Find(*listing, {"storeB", "ERROR.txt"});
  ASSERT_NE(error, nullptr);
  EXPECT_THAT(error->content, HasSubstr("master.json is not valid JSON"));
  EXPECT_THAT(error->content, HasSubstr("the page lists no model folders"));
}

TEST(DigitsHubTest, HostileChildrenAreSkipped) {
  FakeDocuments docs;
  const std::string a = kA;
  docs.Put(a + "master.json", std::string(R"({"children": ["..", ".", "", "a/b", "nul\u0000x", ")") +
                                  std::string(300, 'x') + R"(", "lenet", "lenet", "my model"]})");
  DigitsHub hub(Options({{kA, ""}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(Children(*listing, {"storeA"}), UnorderedElementsAre("lenet", "my model"));
  EXPECT_THAT(docs.requests, Contains(a + "my%20model/info.json"));
  for (const std::string& url : docs.requests) EXPECT_EQ(url.find("/../"), std::string::npos);
}

TEST(DigitsHubTest, UnusableInfoAndAuxAreServedButNameNoFiles) {
  FakeDocuments docs;
  const std::string a = kA;
  docs.Put(a + "master.json", R"({"children": ["m"]})");
  docs.Put(a + "m/info.json", "not json");
  docs.Put(a + "m/aux.json", R"({"license": "MIT", "logo": "info.json"})");
  // aux.json has a license, but license.txt is missing: it is not shown.
  DigitsHub hub(Options({{kA, ""}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(Children(*listing, {"storeA", "m"}), UnorderedElementsAre("info.json", "aux.json"));
  EXPECT_EQ(Find(*listing, {"storeA", "m", "info.json"})->content, "not json");
}

TEST(DigitsHubTest, AModelWithOnlyAuxJson) {
  FakeDocuments docs;
  const std::string a = kA;
  docs.Put(a + "master.json", R"({"children": ["m"]})");
  docs.Put(a + "m/aux.json", R"({"license": "MIT"})");
  docs.Put(a + "m/license.txt", "MIT");
  DigitsHub hub(Options({{kA, ""}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(Children(*listing, {"storeA", "m"}), UnorderedElementsAre("aux.json", "license.txt"));
}

TEST(DigitsHubTest, InfoJsonCannotShadowGeneratedFiles) {
  FakeDocuments docs;
  const std::string a = kA;
  docs.Put(a + "master.json", R"({"children": ["m"]})");
  docs.Put(a + "m/info.json", R"({"snapshot file": "info.json", "model file": "license.txt"})");
  docs.Put(a + "m/aux.json", R"({"license": "MIT"})");
  docs.Put(a + "m/license.txt", "MIT");
  DigitsHub hub(Options({{kA, ""}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(Find(*listing, {"storeA", "m", "info.json"})->content, docs.documents.at(a + "m/info.json")->body);
  // license.txt named by info.json is the remote file; it is not fetched as a document too.
  EXPECT_EQ(RemoteUrl(*listing, {"storeA", "m", "license.txt"}), a + "m/license.txt");
  EXPECT_THAT(docs.requests, Not(Contains(a + "m/license.txt")));
  int count = 0;
  for (const Entry& e : listing->entries) count += e.path == std::vector<std::string>{"storeA", "m", "license.txt"};
  EXPECT_EQ(count, 1);
}

TEST(DigitsHubTest, LargeLicenseOrLogoIsARemoteFile) {
  FakeDocuments docs;
  const std::string a = kA;
  docs.Put(a + "master.json", R"({"children": ["m"]})");
  docs.Put(a + "m/aux.json", R"({"logo": "logo.png"})");
  docs.Put(a + "m/logo.png", std::string(kMaxInlineFileBytes + 1, 'p'));
  DigitsHub hub(Options({{kA, ""}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(RemoteUrl(*listing, {"storeA", "m", "logo.png"}), a + "m/logo.png");
  EXPECT_TRUE(Find(*listing, {"storeA", "m", "logo.png"})->content.empty());
}

TEST(DigitsHubTest, RefreshRevalidatesEveryDocument) {
  FakeDocuments docs;
  PutStoreA(&docs);
  DigitsHub hub(Options({{kA, ""}}), docs);
  ASSERT_TRUE(hub.List({}).ok());
  EXPECT_THAT(docs.revalidated, IsEmpty());
  docs.requests.clear();
  ASSERT_TRUE(hub.List({.refresh = true}).ok());
  EXPECT_EQ(docs.revalidated, docs.requests);
  EXPECT_THAT(docs.revalidated, Contains(std::string(kA) + "master.json"));
  EXPECT_THAT(docs.revalidated, Contains(std::string(kA) + "lenet/license.txt"));
}

TEST(DigitsHubTest, StaleDocumentsStillListAndMtimeIsTheIndexFetchTime) {
  FakeDocuments docs;
  DocumentSource::Document master;
  master.body = R"({"children": ["lenet"]})";
  master.fetched_at = 1700000000;
  master.stale = true;
  master.stale_reason = "server unreachable";
  docs.documents.emplace(std::string(kA) + "master.json", master);
  DigitsHub hub(Options({{kA, ""}}), docs);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->mtime, 1700000000);
  EXPECT_THAT(Children(*listing, {"storeA"}), ElementsAre("lenet"));
}

TEST(DigitsHubTest, StoresGetDerivedOrConfiguredNames) {
  FakeDocuments docs;
  DigitsHub hub(Options({{"http://127.0.0.1:1/modelstore/5.0", ""},
                         {"http://127.0.0.1:2/modelstore/5.0", ""},
                         {"http://127.0.0.1:3/x", "nvidia"}}),
                docs);
  ASSERT_EQ(hub.stores().size(), 3u);
  EXPECT_EQ(hub.stores()[0].name, "5.0");
  EXPECT_EQ(hub.stores()[1].name, "5.0-2");
  EXPECT_EQ(hub.stores()[2].name, "nvidia");
  EXPECT_EQ(hub.stores()[0].base, "http://127.0.0.1:1/modelstore/5.0/");
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());  // every store fails (404), each with its own ERROR.txt
  EXPECT_THAT(Children(*listing, {}), UnorderedElementsAre("5.0", "5.0-2", "nvidia"));
}

TEST(DigitsHubTest, NoStoresOrBadStoresIsAnError) {
  FakeDocuments docs;
  DigitsHub empty(Options({}), docs);
  auto none = empty.List({});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().message(), HasSubstr("no stores"));
  DigitsHub bad(Options({{"store.test/x", ""}}), docs);
  auto listing = bad.List({});
  ASSERT_FALSE(listing.ok());
  EXPECT_EQ(listing.error().code(), Code::kInvalidArgument);
  EXPECT_THAT(docs.requests, IsEmpty());
}

}  // namespace
}  // namespace hubfs::hubs::digits
