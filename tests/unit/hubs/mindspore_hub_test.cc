#include "hubfs/hubs/mindspore/mindspore_hub.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hubfs/core/names.h"
#include "hubfs/hubs/mindspore/mindspore_markdown.h"
#include "testing/fake_git_repository.h"
#include "unit/hubs/mindspore_test_markdown.h"

namespace hubfs::hubs::mindspore {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using hubfs::test::FakeGitRepository;
using test::GoodMarkdown;
using test::kSha2;

constexpr char kAssets[] = "mshub_res/assets/";

MindSporeHubOptions Options(std::vector<std::string> branches = {"master"}) {
  MindSporeHubOptions o;
  o.name = "mindspore";
  o.branches = std::move(branches);
  o.metadata_ttl = 300;
  return o;
}

std::vector<std::string> Paths(const Listing& listing) {
  std::vector<std::string> out;
  for (const Entry& e : listing.entries) {
    std::string p;
    for (const std::string& part : e.path) p += (p.empty() ? "" : "/") + part;
    out.push_back(p);
  }
  return out;
}

TEST(MindSporeHubTest, DefaultsAreTheOfficialHub) {
  const MindSporeHubOptions o;
  EXPECT_EQ(o.git_url, "https://gitee.com/mindspore/hub.git");
  EXPECT_THAT(o.branches, ElementsAre("master"));
  EXPECT_EQ(o.metadata_ttl, 600);
}

TEST(MindSporeHubTest, ListsBothLayoutsAndSkipsUnusableFiles) {
  FakeGitRepository repo;
  auto& master = repo.branches["master"];
  master[std::string(kAssets) + "mindspore/1.10/toy_cifar10.md"] = GoodMarkdown();
  master[std::string(kAssets) + "mindspore/1.10/toy_cifar10_cn.md"] = "# 中文\n";
  master[std::string(kAssets) + "mindspore/ascend/0.7/old_toy.md"] =
      GoodMarkdown("old", "https://dl.test/old.ckpt", kSha2);
  master[std::string(kAssets) + "mindspore/2.5/broken.md"] = GoodMarkdown() + "---\n";
  master[std::string(kAssets) + "mindspore/2.5/badlist.md"] =
      test::Replace(GoodMarkdown(), "asset:\n-\n", "asset: x\nother:\n-\n");
  master[std::string(kAssets) + "noah-cvlab/gpu/1.0/ghost.md"] = GoodMarkdown();
  master[std::string(kAssets) + "noah-cvlab/static/images/a.png"] = "png";
  master[std::string(kAssets) + "README.md"] = "# readme";
  master["mindspore_hub/load.py"] = "code";
  MindSporeHub hub(Options(), repo);
  EXPECT_EQ(hub.name(), "mindspore");

  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok()) << listing.error().ToString();
  EXPECT_EQ(listing->mtime, 1700000000);
  EXPECT_THAT(Paths(*listing), UnorderedElementsAre("1.10/toy_cifar10/toy_cifar10.md",
                                                    "1.10/toy_cifar10/toy_cifar10_cn.md",
                                                    "1.10/toy_cifar10/toynet_v1.ckpt",
                                                    "0.7-ascend/old_toy/old_toy.md",
                                                    "0.7-ascend/old_toy/old.ckpt"));
  EXPECT_THAT(repo.fetch_ages, ElementsAre(300));
  // Other publishers' files are not even read.
  for (const std::string& blob : repo.blobs_read) EXPECT_EQ(blob.find("noah-cvlab"), std::string::npos);
}

TEST(MindSporeHubTest, RefreshFetchesWithMaxAgeZero) {
  FakeGitRepository repo;
  repo.branches["master"];
  MindSporeHub hub(Options(), repo);
  ASSERT_TRUE(hub.List({.refresh = true}).ok());
  ASSERT_TRUE(hub.List({}).ok());
  EXPECT_THAT(repo.fetch_ages, ElementsAre(0, 300));
}

TEST(MindSporeHubTest, StaleFetchStillListsWithTheOldTime) {
  FakeGitRepository repo;
  repo.branches["master"][std::string(kAssets) + "mindspore/1.6/toy.md"] = GoodMarkdown();
  repo.fetch_result = {1600000000, true, "connection refused"};
  MindSporeHub hub(Options(), repo);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->mtime, 1600000000);
  EXPECT_EQ(listing->entries.size(), 2u);
  ASSERT_TRUE(hub.List({}).ok());  // logged once; still lists
}

TEST(MindSporeHubTest, FetchErrorWithoutMirrorIsAnError) {
  FakeGitRepository repo;
  repo.fetch_error = Status::Unavailable("no route to host");
  MindSporeHub hub(Options(), repo);
  auto listing = hub.List({});
  ASSERT_FALSE(listing.ok());
  EXPECT_EQ(listing.error().code(), Code::kUnavailable);
  EXPECT_NE(listing.error().message().find("gitee.com/mindspore/hub.git"), std::string::npos);
}

TEST(MindSporeHubTest, FirstListedBranchWinsAndMissingBranchesAreSkipped) {
  FakeGitRepository repo;
  repo.branches["master"][std::string(kAssets) + "mindspore/1.3/toy.md"] =
      GoodMarkdown("t", "https://dl.test/master.ckpt");
  repo.branches["r1.3"][std::string(kAssets) + "mindspore/1.3/toy.md"] =
      GoodMarkdown("t", "https://dl.test/r13.ckpt");
  repo.branches["r1.3"][std::string(kAssets) + "mindspore/ascend/1.0/old.md"] =
      GoodMarkdown("o", "https://dl.test/old.ckpt");
  MindSporeHub hub(Options({"master", "gone", "r1.3"}), repo);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok()) << listing.error().ToString();
  EXPECT_THAT(Paths(*listing), UnorderedElementsAre("1.3/toy/toy.md", "1.3/toy/master.ckpt",
                                                    "1.0-ascend/old/old.md", "1.0-ascend/old/old.ckpt"));
  // The later branch's copy of a folder already provided is not read.
  EXPECT_THAT(repo.blobs_read, ::testing::Not(::testing::Contains("r1.3:mshub_res/assets/mindspore/1.3/toy.md")));

  MindSporeHub none(Options({"gone"}), repo);
  auto failed = none.List({});
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(failed.error().IsNotFound());
}

TEST(MindSporeHubTest, HostileNamesAreSkipped) {
  FakeGitRepository repo;
  auto& master = repo.branches["master"];
  master[std::string(kAssets) + "mindspore/1.6/ok.md"] = GoodMarkdown();
  master[std::string(kAssets) + "mindspore/../1.6/up.md"] = GoodMarkdown();
  master[std::string(kAssets) + "mindspore/1.6/" + std::string(260, 'x') + ".md"] = GoodMarkdown();
  master[std::string(kAssets) + std::string("mindspore/1.6/n\x01ul.md")] = GoodMarkdown();
  master[std::string(kAssets) + "mindspore/1.6/dots.md"] = GoodMarkdown("d", "https://dl.test/..");
  master[std::string(kAssets) + "mindspore/1.6/nul.md"] =
      GoodMarkdown("n", std::string("https://dl.test/a\0b.ckpt", 24));
  master[std::string(kAssets) + "mindspore/1.6/huge.md"] = std::string(kMaxMarkdownBytes + 1, '#');
  MindSporeHub hub(Options(), repo);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok()) << listing.error().ToString();
  const std::vector<std::string> paths = Paths(*listing);
  EXPECT_THAT(paths, ::testing::IsSupersetOf({"1.6/ok/ok.md", "1.6/ok/toynet_v1.ckpt", "1.6/dots/dots.md"}));
  // nul.md: either its YAML is refused or only its asset is; the hostile asset never shows.
  EXPECT_LE(paths.size(), 4u);
  for (const Entry& e : listing->entries) {
    for (const std::string& part : e.path) EXPECT_TRUE(IsSafeName(part)) << part;
  }
  EXPECT_THAT(repo.blobs_read, ::testing::Not(::testing::Contains("master:mshub_res/assets/mindspore/1.6/huge.md")));
}

TEST(MindSporeHubTest, EmptyRepositoryListsNothing) {
  FakeGitRepository repo;
  repo.branches["master"];
  MindSporeHub hub(Options(), repo);
  auto listing = hub.List({});
  ASSERT_TRUE(listing.ok());
  EXPECT_THAT(listing->entries, IsEmpty());
}

}  // namespace
}  // namespace hubfs::hubs::mindspore
