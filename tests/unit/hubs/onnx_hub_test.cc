#include "hubfs/hubs/onnx/onnx_hub.h"
#include "testing/fake_documents.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace hubfs::hubs::onnx {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using test::FakeDocuments;

constexpr char kManifest[] = R"([
  {"model": "ResNet50",
   "model_path": "validated/vision/classification/resnet/model/resnet50-v1-12.onnx",
   "onnx_version": "1.7.0", "opset_version": 12,
   "metadata": {"model_sha": "0000000000000000000000000000000000000000000000000000000000000001",
                "model_bytes": 1234,
                "model_with_data_path": "validated/vision/classification/resnet/model/resnet50-v1-12.tar.gz",
                "model_with_data_sha": null, "model_with_data_bytes": 99}},
  {"model": "Broken", "opset_version": 7}
])";

OnnxHubOptions Options() {
  OnnxHubOptions o;
  o.name = "zoo";
  o.repo = RepoSpec{"onnx", "models", "abc123"};
  o.raw_base = "http://raw.test";
  o.media_base = "http://media.test/media";
  return o;
}

const Entry* Find(const Listing& listing, const std::vector<std::string>& path) {
  for (const Entry& e : listing.entries) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

DocumentSource::Document Doc(std::string body, int64_t fetched_at, bool stale = false) {
  DocumentSource::Document d;
  d.body = std::move(body);
  d.fetched_at = fetched_at;
  d.stale = stale;
  if (stale) d.stale_reason = "server unreachable";
  return d;
}

TEST(OnnxHubTest, NameIsTheConfiguredFolder) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  EXPECT_EQ(hub.name(), "zoo");
}

TEST(OnnxHubTest, ManifestUrlIsRawBaseOwnerNameRef) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  EXPECT_EQ(hub.ManifestUrl(), "http://raw.test/onnx/models/abc123/ONNX_HUB_MANIFEST.json");
}

TEST(OnnxHubTest, ManifestUrlToleratesTrailingSlashInBase) {
  FakeDocuments docs;
  OnnxHubOptions o = Options();
  o.raw_base = "https://raw.githubusercontent.com/";
  o.repo = RepoSpec{"me", "zoo", "main"};
  OnnxHub hub(o, docs);
  EXPECT_EQ(hub.ManifestUrl(),
            "https://raw.githubusercontent.com/me/zoo/main/ONNX_HUB_MANIFEST.json");
}

TEST(OnnxHubTest, DefaultBasesAreGitHub) {
  const OnnxHubOptions o;
  EXPECT_EQ(o.raw_base, "https://raw.githubusercontent.com");
  EXPECT_EQ(o.media_base, "https://media.githubusercontent.com/media");
}

TEST(OnnxHubTest, ListFetchesTheManifestOnceAndBuildsTheLayout) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  docs.documents.emplace(hub.ManifestUrl(), Doc(kManifest, 1700000000));
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok()) << listing.error().ToString();
  EXPECT_THAT(docs.requests,
              ElementsAre("http://raw.test/onnx/models/abc123/ONNX_HUB_MANIFEST.json"));
  EXPECT_EQ(listing->mtime, 1700000000);

  const Entry* model = Find(*listing, {"vision", "resnet50", "resnet50-v1-12.onnx"});
  ASSERT_NE(model, nullptr);
  ASSERT_TRUE(model->remote.has_value());
  EXPECT_EQ(model->remote->url,
            "http://media.test/media/onnx/models/abc123/"
            "validated/vision/classification/resnet/model/resnet50-v1-12.onnx");
  EXPECT_EQ(model->remote->size, 1234u);
  ASSERT_TRUE(model->remote->sha256.has_value());
  EXPECT_EQ((*model->remote->sha256)[31], 1);

  const Entry* bundle = Find(*listing, {"vision", "resnet50", "resnet50-v1-12.tar.gz"});
  ASSERT_NE(bundle, nullptr);
  EXPECT_EQ(bundle->remote->url,
            "http://media.test/media/onnx/models/abc123/"
            "validated/vision/classification/resnet/model/resnet50-v1-12.tar.gz");
  EXPECT_FALSE(bundle->remote->sha256.has_value());
  EXPECT_EQ(bundle->remote->size, 99u);

  EXPECT_NE(Find(*listing, {"vision", "resnet50", "model.onnx"}), nullptr);
  EXPECT_NE(Find(*listing, {"vision", "resnet50", "info.json"}), nullptr);
  EXPECT_NE(Find(*listing, {"tree", "validated", "vision", "classification", "resnet", "model",
                            "resnet50-v1-12.onnx"}),
            nullptr);
  // The broken element is skipped, not fatal, and adds nothing.
  for (const Entry& e : listing->entries) EXPECT_NE(e.path[1], "broken");
}

TEST(OnnxHubTest, MediaUrlsUseTheMediaBaseNotTheRawBase) {
  FakeDocuments docs;
  OnnxHubOptions o = Options();
  o.media_base = "https://lfs.example/media/";
  OnnxHub hub(o, docs);
  docs.documents.emplace(hub.ManifestUrl(), Doc(kManifest, 1));
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  for (const Entry& e : listing->entries) {
    if (!e.remote) continue;
    EXPECT_THAT(e.remote->url,
                ::testing::StartsWith("https://lfs.example/media/onnx/models/abc123/validated/"));
  }
}

TEST(OnnxHubTest, FetchErrorIsReturnedUnchanged) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  auto listing = hub.List({});
  ASSERT_FALSE(listing.ok());
  EXPECT_EQ(listing.error().code(), Code::kNotFound);
  EXPECT_EQ(listing.error().http_status(), 404);
  EXPECT_THAT(listing.error().message(), HasSubstr(hub.ManifestUrl()));
}

TEST(OnnxHubTest, OtherFetchErrorsPropagate) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  docs.documents.emplace(hub.ManifestUrl(), Status::Unavailable("connection refused"));
  auto listing = hub.List({});
  ASSERT_FALSE(listing.ok());
  EXPECT_EQ(listing.error().code(), Code::kUnavailable);
  EXPECT_THAT(listing.error().message(), HasSubstr("connection refused"));
}

TEST(OnnxHubTest, MalformedManifestIsDataLossNamingTheUrl) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  docs.documents.emplace(hub.ManifestUrl(), Doc("<html>rate limited</html>", 5));
  auto listing = hub.List({});
  ASSERT_FALSE(listing.ok());
  EXPECT_EQ(listing.error().code(), Code::kDataLoss);
  EXPECT_THAT(listing.error().message(), HasSubstr("manifest " + hub.ManifestUrl()));
}

TEST(OnnxHubTest, ManifestThatIsNotAnArrayIsDataLoss) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  docs.documents.emplace(hub.ManifestUrl(), Doc(R"({"models": []})", 5));
  auto listing = hub.List({});
  ASSERT_FALSE(listing.ok());
  EXPECT_EQ(listing.error().code(), Code::kDataLoss);
}

TEST(OnnxHubTest, StaleDocumentStillLists) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  docs.documents.emplace(hub.ManifestUrl(), Doc(kManifest, 1600000000, /*stale=*/true));
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok()) << listing.error().ToString();
  EXPECT_EQ(listing->mtime, 1600000000);
  EXPECT_NE(Find(*listing, {"vision", "resnet50", "resnet50-v1-12.onnx"}), nullptr);
}

TEST(OnnxHubTest, EmptyManifestListsNothing) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  docs.documents.emplace(hub.ManifestUrl(), Doc("[]", 7));
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_TRUE(listing->entries.empty());
  EXPECT_EQ(listing->mtime, 7);
}

TEST(OnnxHubTest, EachListAsksTheSourceAgain) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  docs.documents.emplace(hub.ManifestUrl(), Doc("[]", 7));
  ASSERT_TRUE(hub.List({}).ok());
  ASSERT_TRUE(hub.List({}).ok());
  EXPECT_EQ(docs.requests.size(), 2u);
}

TEST(OnnxHubTest, RefreshRevalidatesTheManifest) {
  FakeDocuments docs;
  OnnxHub hub(Options(), docs);
  docs.documents.emplace(hub.ManifestUrl(), Doc("[]", 7));
  ASSERT_TRUE(hub.List({}).ok());
  EXPECT_TRUE(docs.revalidated.empty());
  ASSERT_TRUE(hub.List({.refresh = true}).ok());
  EXPECT_EQ(docs.revalidated, std::vector<std::string>{hub.ManifestUrl()});
}

}  // namespace
}  // namespace hubfs::hubs::onnx
