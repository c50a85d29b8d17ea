#include "hubfs/hubs/hf/hf_api.h"

#include <gtest/gtest.h>

namespace hubfs::hubs::hf {
namespace {

const std::string kSha = std::string(64, 'a');
const std::string kOid = std::string(40, 'b');

TEST(HfApi, RepoPartsFollowTheHubsRules) {
  EXPECT_TRUE(IsValidRepoPart("onnxmodelzoo"));
  EXPECT_TRUE(IsValidRepoPart("resnet-50_v1.5"));
  EXPECT_FALSE(IsValidRepoPart(""));
  EXPECT_FALSE(IsValidRepoPart("-lead"));
  EXPECT_FALSE(IsValidRepoPart("trail."));
  EXPECT_FALSE(IsValidRepoPart("a--b"));
  EXPECT_FALSE(IsValidRepoPart("a..b"));
  EXPECT_FALSE(IsValidRepoPart("a/b"));
  EXPECT_FALSE(IsValidRepoPart(".hidden"));
  EXPECT_FALSE(IsValidRepoPart(std::string(97, 'x')));
}

TEST(HfApi, RepoFolderNamesCarryAnEncodedRevision) {
  auto plain = ParseRepoFolder("mnist");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->name, "mnist");
  EXPECT_EQ(plain->revision, "");
  auto pr = ParseRepoFolder("mnist@refs%2Fpr%2F1");
  ASSERT_TRUE(pr);
  EXPECT_EQ(pr->revision, "refs/pr/1");
  EXPECT_EQ(RepoFolderName("mnist", "refs/pr/1"), "mnist@refs%2Fpr%2F1");
  EXPECT_EQ(RepoFolderName("mnist", "v1.0"), "mnist@v1.0");
  for (const char* bad : {"mnist@", "mnist@..%2Fx", "mnist@%2", "mnist@%00", "mnist@a b", "-x@main", "m@-rev"}) {
    EXPECT_FALSE(ParseRepoFolder(bad)) << bad;
  }
}

TEST(HfApi, RepoSpecs) {
  auto model = ParseRepoSpec("org/name@v1");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->type, RepoType::kModel);
  EXPECT_EQ(model->id, "org/name");
  EXPECT_EQ(model->revision, "v1");
  auto dataset = ParseRepoSpec("datasets/org/data");
  ASSERT_TRUE(dataset);
  EXPECT_EQ(dataset->type, RepoType::kDataset);
  EXPECT_EQ(dataset->ApiPath(), "datasets/org/data");
  EXPECT_EQ(dataset->FilePrefix(), "datasets/");
  EXPECT_FALSE(ParseRepoSpec("justname"));
  EXPECT_FALSE(ParseRepoSpec("org/../x"));
}

TEST(HfApi, UrlsEncodeRevisionsFullyAndPathsButSlashes) {
  RepoRef repo{RepoType::kModel, "org/name", "refs/pr/1"};
  EXPECT_EQ(RepoInfoUrl("http://h", repo), "http://h/api/models/org/name/revision/refs%2Fpr%2F1");
  EXPECT_EQ(TreeUrl("http://h", repo, kOid), "http://h/api/models/org/name/tree/" + kOid + "?recursive=true&expand=false");
  EXPECT_EQ(ResolveUrl("http://h", repo, kOid, "onnx/my model.onnx"),
            "http://h/org/name/resolve/" + kOid + "/onnx/my%20model.onnx");
  RepoRef data{RepoType::kDataset, "org/d", ""};
  EXPECT_EQ(RepoInfoUrl("http://h", data), "http://h/api/datasets/org/d");
  EXPECT_EQ(ResolveUrl("http://h", data, kOid, "a.csv"), "http://h/datasets/org/d/resolve/" + kOid + "/a.csv");
}

TEST(HfApi, TreePageReadsFilesLfsAndDirectories) {
  const std::string json = R"([
    {"type":"directory","path":"onnx","oid":")" + kOid + R"("},
    {"type":"file","path":"config.json","size":12,"oid":")" + kOid + R"("},
    {"type":"file","path":"onnx/model.onnx","size":1000,"oid":")" + kOid +
                           R"(","lfs":{"oid":")" + kSha + R"(","size":1000,"pointerSize":130}},
    {"type":"file","path":"bad-lfs","size":5,"lfs":{"oid":"xyz","size":5}},
    {"type":"file","path":"wrong-size","size":5,"lfs":{"oid":")" + kSha + R"(","size":6}},
    {"type":"file","path":"nosize"},
    {"type":"unknown","path":"weird"},
    7
  ])";
  auto page = ParseTreePage(json);
  ASSERT_TRUE(page) << page.error().ToString();
  ASSERT_EQ(page->entries.size(), 3u);
  EXPECT_TRUE(page->entries[0].directory);
  EXPECT_EQ(page->entries[1].path, "config.json");
  EXPECT_EQ(page->entries[1].size, 12u);
  ASSERT_TRUE(page->entries[1].blob_id);
  EXPECT_EQ(ToHex(*page->entries[1].blob_id), kOid);
  EXPECT_FALSE(page->entries[1].lfs_sha256);
  ASSERT_TRUE(page->entries[2].lfs_sha256);
  EXPECT_EQ(ToHex(*page->entries[2].lfs_sha256), kSha);
  EXPECT_EQ(page->skipped.size(), 5u);
  EXPECT_FALSE(ParseTreePage("{}"));
  EXPECT_FALSE(ParseTreePage("not json"));
}

TEST(HfApi, RepoInfoCommit) {
  auto sha = ParseRepoInfoCommit(R"({"id":"a/b","sha":")" + kOid + R"("})");
  ASSERT_TRUE(sha);
  EXPECT_EQ(*sha, kOid);
  EXPECT_FALSE(ParseRepoInfoCommit(R"({"id":"a/b","sha":"main"})"));
  EXPECT_FALSE(ParseRepoInfoCommit("[]"));
}

TEST(HfApi, NextLinkFindsRelNextAmongOthers) {
  EXPECT_EQ(NextLink("<http://h/api/x?cursor=2>; rel=\"next\""), "http://h/api/x?cursor=2");
  EXPECT_EQ(NextLink("<http://h/p1>; rel=\"prev\", <http://h/p3>; rel=next"), "http://h/p3");
  EXPECT_EQ(NextLink("<http://h/p3>; title=\"x\"; REL=\"prev next\""), "http://h/p3");
  EXPECT_EQ(NextLink("<http://h/p1>; rel=\"prev\""), std::nullopt);
  EXPECT_EQ(NextLink(""), std::nullopt);
  EXPECT_EQ(NextLink("<http://h/p1; rel=next"), std::nullopt);
  EXPECT_EQ(NextLink("<>; rel=next"), std::nullopt);
  EXPECT_EQ(NextLink("<http://h/x>; rel=nextpage"), std::nullopt);
}

TEST(HfApi, EtagsLoseWeaknessAndQuotes) {
  EXPECT_EQ(NormalizeEtag("W/\"abc\""), "abc");
  EXPECT_EQ(NormalizeEtag("\"abc\""), "abc");
  EXPECT_EQ(NormalizeEtag("abc"), "abc");
}

TEST(HfApi, PercentEncode) {
  EXPECT_EQ(PercentEncode("refs/pr/1", false), "refs%2Fpr%2F1");
  EXPECT_EQ(PercentEncode("a b/c~d", true), "a%20b/c~d");
}

}  // namespace
}  // namespace hubfs::hubs::hf
