#include "hubfs/hubs/hf/hf_hub.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/fake_documents.h"
#include "testing/temp_dir.h"

namespace hubfs::hubs::hf {
namespace {

const std::string kEndpoint = "http://hf.test";
const std::string kCommit = std::string(40, 'c');
const std::string kOld = std::string(40, 'd');
const std::string kSha = std::string(64, 'e');
const std::string kOid = std::string(40, 'f');

std::string Info(const std::string& sha) { return R"({"id":"org/m","sha":")" + sha + R"("})"; }
std::string Page(const std::string& entries) { return "[" + entries + "]"; }
std::string File(const std::string& path, int size) {
  return R"({"type":"file","path":")" + path + R"(","size":)" + std::to_string(size) + R"(,"oid":")" + kOid + R"("})";
}
std::string LfsFile(const std::string& path, int size) {
  return R"({"type":"file","path":")" + path + R"(","size":)" + std::to_string(size) + R"(,"oid":")" + kOid +
         R"(","lfs":{"oid":")" + kSha + R"(","size":)" + std::to_string(size) + "}}";
}

const Entry* Find(const Listing& listing, const std::vector<std::string>& path) {
  for (const Entry& e : listing.entries) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

class HfHubTest : public ::testing::Test {
 protected:
  HfHubOptions Options() {
    HfHubOptions o;
    o.endpoint = kEndpoint;
    o.metadata_ttl = 600;
    return o;
  }
  // Repo org/m at kCommit, tree in two pages linked by Link headers.
  void ServeRepo() {
    docs.Put(kEndpoint + "/api/models/org/m", Info(kCommit));
    const std::string first = kEndpoint + "/api/models/org/m/tree/" + kCommit + "?recursive=true&expand=false";
    const std::string second = kEndpoint + "/api/models/org/m/tree/" + kCommit + "?recursive=true&cursor=2";
    hubs::DocumentSource::Document page1;
    page1.body = Page(R"({"type":"directory","path":"onnx"},)" + File("config.json", 10));
    page1.link = "<" + second + ">; rel=\"next\"";
    docs.documents.insert_or_assign(first, page1);
    docs.Put(second, Page(LfsFile("onnx/model.onnx", 1000)));
  }
  int64_t now = 1'000'000;
  test::FakeDocuments docs;
};

TEST_F(HfHubTest, ListsConfiguredReposAcrossPagesWithTheirIdentities) {
  ServeRepo();
  auto options = Options();
  options.repos.push_back(*ParseRepoSpec("org/m"));
  HfHub hub(options, docs, [&] { return now; });
  auto listing = hub.List({});
  ASSERT_TRUE(listing) << listing.error().ToString();
  const Entry* config = Find(*listing, {"org", "m", "config.json"});
  ASSERT_NE(config, nullptr);
  ASSERT_TRUE(config->remote);
  EXPECT_EQ(config->remote->url, kEndpoint + "/org/m/resolve/" + kCommit + "/config.json");
  EXPECT_EQ(config->remote->size, 10u);
  EXPECT_FALSE(config->remote->sha256);
  ASSERT_TRUE(config->remote->git_blob_id);
  EXPECT_EQ(ToHex(*config->remote->git_blob_id), kOid);
  const Entry* model = Find(*listing, {"org", "m", "onnx", "model.onnx"});
  ASSERT_NE(model, nullptr);
  ASSERT_TRUE(model->remote->sha256);
  EXPECT_EQ(ToHex(*model->remote->sha256), kSha);
  EXPECT_FALSE(model->remote->git_blob_id);  // the tree's oid of an LFS file is the pointer's
  const Entry* dir = Find(*listing, {"org", "m", "onnx"});
  ASSERT_NE(dir, nullptr);
  EXPECT_EQ(dir->kind, EntryKind::kDirectory);
}

TEST_F(HfHubTest, PaginationNeverLeavesTheEndpoint) {
  docs.Put(kEndpoint + "/api/models/org/m", Info(kCommit));
  hubs::DocumentSource::Document page;
  page.body = Page(File("a", 1));
  page.link = "<http://elsewhere.test/api/models/org/m/tree/x>; rel=\"next\"";
  docs.documents.insert_or_assign(kEndpoint + "/api/models/org/m/tree/" + kCommit + "?recursive=true&expand=false", page);
  auto options = Options();
  options.repos.push_back(*ParseRepoSpec("org/m"));
  HfHub hub(options, docs, [&] { return now; });
  auto listing = hub.List({});
  ASSERT_TRUE(listing);
  const Entry* error = Find(*listing, {"org", "m", "ERROR.txt"});
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->content.find("outside"), std::string::npos) << error->content;
  for (const auto& url : docs.requests) EXPECT_EQ(url.find("elsewhere"), std::string::npos);
}

TEST_F(HfHubTest, DiscoversNamespacesAndReposOnLookupAndRemembersMisses) {
  ServeRepo();
  HfHub hub(Options(), docs, [&] { return now; });
  auto empty = hub.List({});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->entries.empty());
  EXPECT_TRUE(docs.requests.empty()) << "nothing configured: nothing asked";

  EXPECT_TRUE(hub.Discover({}, "org").value());
  EXPECT_FALSE(hub.Discover({}, ".Trash").value());
  EXPECT_FALSE(hub.Discover({"org"}, "no-such").value());
  const size_t asked = docs.requests.size();
  EXPECT_FALSE(hub.Discover({"org"}, "no-such").value());
  EXPECT_EQ(docs.requests.size(), asked) << "a miss is remembered for negative_ttl";
  now += 61;
  EXPECT_FALSE(hub.Discover({"org"}, "no-such").value());
  EXPECT_GT(docs.requests.size(), asked);

  EXPECT_TRUE(hub.Discover({"org"}, "m").value());
  EXPECT_FALSE(hub.Discover({"org", "m"}, "missing.txt").value()) << "inside a repo there is nothing to learn";
  auto listing = hub.List({});
  ASSERT_TRUE(listing);
  EXPECT_NE(Find(*listing, {"org", "m", "onnx", "model.onnx"}), nullptr);
}

TEST_F(HfHubTest, AccessDeniedSaysToSetAToken) {
  docs.documents.insert_or_assign(kEndpoint + "/api/models/org/private",
                                  Status::Unauthenticated("GET …: HTTP 401").WithHttpStatus(401));
  HfHub hub(Options(), docs, [&] { return now; });
  auto r = hub.Discover({"org"}, "private");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnauthenticated);
  EXPECT_NE(r.error().message().find("set a token"), std::string::npos) << r.error().message();
}

TEST_F(HfHubTest, RevisionsPinFoldersAndCommitsNeedNoLookup) {
  ServeRepo();
  docs.Put(kEndpoint + "/api/models/org/m/revision/refs%2Fpr%2F1", Info(kCommit));
  HfHub hub(Options(), docs, [&] { return now; });
  ASSERT_TRUE(hub.Discover({"org"}, "m@refs%2Fpr%2F1").value());
  docs.requests.clear();
  ASSERT_TRUE(hub.Discover({"org"}, "m@" + kCommit).value());
  for (const auto& url : docs.requests) EXPECT_EQ(url.find("/api/models/org/m/revision"), std::string::npos) << url;
  auto listing = hub.List({});
  ASSERT_TRUE(listing);
  EXPECT_NE(Find(*listing, {"org", "m@refs%2Fpr%2F1", "config.json"}), nullptr);
  EXPECT_NE(Find(*listing, {"org", "m@" + kCommit, "onnx", "model.onnx"}), nullptr);
}

TEST_F(HfHubTest, DatasetsLiveBelowTheDatasetsFolder) {
  docs.Put(kEndpoint + "/api/datasets/org/d", Info(kCommit));
  docs.Put(kEndpoint + "/api/datasets/org/d/tree/" + kCommit + "?recursive=true&expand=false", Page(File("a.csv", 3)));
  HfHub hub(Options(), docs, [&] { return now; });
  EXPECT_TRUE(hub.Discover({}, "datasets").value());
  EXPECT_TRUE(hub.Discover({"datasets"}, "org").value());
  EXPECT_TRUE(hub.Discover({"datasets", "org"}, "d").value());
  auto listing = hub.List({});
  ASSERT_TRUE(listing);
  const Entry* file = Find(*listing, {"datasets", "org", "d", "a.csv"});
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->remote->url, kEndpoint + "/datasets/org/d/resolve/" + kCommit + "/a.csv");
}

// An HF cache as huggingface_hub leaves it: refs/main, a snapshot of links into blobs/, a tree cache.
class HfLocalCacheTest : public HfHubTest {
 protected:
  void SetUp() override {
    namespace fsys = std::filesystem;
    repo_ = dir_.Sub("hub/models--org--m");
    fsys::create_directories(repo_ + "/refs");
    fsys::create_directories(repo_ + "/blobs");
    fsys::create_directories(repo_ + "/snapshots/" + kCommit + "/onnx");
    Write(repo_ + "/refs/main", kCommit);
    Write(repo_ + "/blobs/" + kSha, std::string(1000, 'x'));
    fsys::create_symlink("../../../blobs/" + kSha, repo_ + "/snapshots/" + kCommit + "/onnx/model.onnx");
    fsys::create_symlink("../../blobs/" + kOid, repo_ + "/snapshots/" + kCommit + "/config.json");  // dangling
    fsys::create_symlink("/etc/passwd", repo_ + "/snapshots/" + kCommit + "/escape");
  }
  static void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  void WriteTreeCache() {
    fsys_tree_ = repo_ + "/trees/" + kCommit + ".json";
    std::filesystem::create_directories(repo_ + "/trees");
    Write(fsys_tree_, R"({"format_version":1,"files":{"config.json":{"size":10,"blob_id":")" + kOid +
                          R"("},"onnx/model.onnx":{"size":1000,"blob_id":")" + kOid + R"(","lfs_sha256":")" + kSha +
                          R"(","lfs_size":1000}}})");
  }
  HfHubOptions LocalOptions() {
    auto o = Options();
    o.local_cache = dir_.Sub("hub");
    o.repos.push_back(*ParseRepoSpec("org/m"));
    return o;
  }
  test::TempDir dir_;
  std::string repo_, fsys_tree_;
};

TEST_F(HfLocalCacheTest, AFreshRefWithATreeCacheListsWithoutAnyRequest) {
  WriteTreeCache();
  now = static_cast<int64_t>(std::time(nullptr));
  HfHub hub(LocalOptions(), docs, [&] { return now; });
  auto listing = hub.List({});
  ASSERT_TRUE(listing) << listing.error().ToString();
  EXPECT_TRUE(docs.requests.empty());
  const Entry* model = Find(*listing, {"org", "m", "onnx", "model.onnx"});
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->remote->url, "file://" + std::filesystem::canonical(repo_ + "/blobs/" + kSha).string());
  EXPECT_EQ(ToHex(*model->remote->sha256), kSha);
  const Entry* config = Find(*listing, {"org", "m", "config.json"});
  ASSERT_NE(config, nullptr) << "listed by the tree cache although its link dangles";
  EXPECT_EQ(config->remote->url, kEndpoint + "/org/m/resolve/" + kCommit + "/config.json");
  EXPECT_EQ(Find(*listing, {"org", "m", "escape"}), nullptr);
}

TEST_F(HfLocalCacheTest, WithoutATreeCacheTheServerListsAndLocalBlobsStillServe) {
  ServeRepo();
  now = static_cast<int64_t>(std::time(nullptr));
  HfHub hub(LocalOptions(), docs, [&] { return now; });
  auto listing = hub.List({});
  ASSERT_TRUE(listing);
  for (const auto& url : docs.requests) EXPECT_EQ(url.find("/api/models/org/m/revision"), std::string::npos);
  EXPECT_EQ(docs.requests.size(), 2u) << "the two tree pages; the ref came from the HF cache";
  const Entry* model = Find(*listing, {"org", "m", "onnx", "model.onnx"});
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->remote->url.rfind("file://", 0), 0u);
}

TEST_F(HfLocalCacheTest, AStaleRefAsksTheServerAndFallsBackToItOffline) {
  WriteTreeCache();
  now = static_cast<int64_t>(std::time(nullptr)) + 3600;  // the ref is an hour old
  docs.documents.insert_or_assign(kEndpoint + "/api/models/org/m", Status::Unavailable("connection refused"));
  HfHub hub(LocalOptions(), docs, [&] { return now; });
  auto listing = hub.List({});
  ASSERT_TRUE(listing);
  ASSERT_FALSE(docs.requests.empty());
  EXPECT_EQ(docs.requests.front(), kEndpoint + "/api/models/org/m");
  EXPECT_NE(Find(*listing, {"org", "m", "onnx", "model.onnx"}), nullptr);
}

}  // namespace
}  // namespace hubfs::hubs::hf
