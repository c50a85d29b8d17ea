#include "hubfs/hubs/mindspore/mindspore_layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/hubs/mindspore_test_markdown.h"

namespace hubfs::hubs::mindspore {
namespace {

using ::testing::HasSubstr;
using test::GoodMarkdown;
using test::kSha1;
using test::kSha2;
using test::Replace;

AssetPath PathOf(const std::string& repo_path) {
  auto parsed = ParseAssetPath(repo_path);
  EXPECT_TRUE(parsed.ok()) << repo_path;
  EXPECT_TRUE(parsed.ok() && parsed->has_value()) << repo_path;
  return parsed.ok() && parsed->has_value() ? **parsed : AssetPath{};
}

ModelFile File(const std::string& repo_path, const std::string& text, const std::string& branch = "master") {
  ModelFile f;
  f.path = PathOf(repo_path);
  f.branch = branch;
  f.text = text;
  if (!f.path.chinese) {
    auto md = ParseAssetMarkdown(text);
    EXPECT_TRUE(md.ok()) << md.error().ToString();
    if (md.ok()) f.markdown = *md;
  }
  return f;
}

std::vector<std::string> Paths(const LayoutResult& layout) {
  std::vector<std::string> out;
  for (const Entry& e : layout.entries) {
    std::string p;
    for (const std::string& part : e.path) p += (p.empty() ? "" : "/") + part;
    out.push_back(p);
  }
  return out;
}

const Entry* Find(const LayoutResult& layout, const std::string& path) {
  for (size_t i = 0; i < layout.entries.size(); ++i) {
    if (Paths(layout)[i] == path) return &layout.entries[i];
  }
  return nullptr;
}

TEST(MindSporeLayoutTest, CurrentLayoutPath) {
  AssetPath p = PathOf("mshub_res/assets/mindspore/1.10/alexnet_cifar10.md");
  EXPECT_EQ(p.publisher, "mindspore");
  EXPECT_EQ(p.device, "");
  EXPECT_EQ(p.version, "1.10");
  EXPECT_EQ(p.model, "alexnet_cifar10");
  EXPECT_FALSE(p.chinese);
  EXPECT_EQ(p.VersionFolder(), "1.10");
}

TEST(MindSporeLayoutTest, OlderLayoutPathPutsTheDeviceInTheVersionFolder) {
  AssetPath p = PathOf("mshub_res/assets/mindspore/ascend/0.7/googlenet_v1_cifar10_cn.md");
  EXPECT_EQ(p.device, "ascend");
  EXPECT_EQ(p.version, "0.7");
  EXPECT_EQ(p.model, "googlenet_v1_cifar10");
  EXPECT_TRUE(p.chinese);
  EXPECT_EQ(p.VersionFolder(), "0.7-ascend");
}

TEST(MindSporeLayoutTest, NonAssetPathsAreIgnoredAndOddOnesRefused) {
  for (const char* ignored : {"README.md", "mshub_res/README.md", "mshub_res/assets/README.md",
                              "mshub_res/assets/noah-cvlab/static/images/a.png",
                              "mshub_res/assets/mindspore/1.6/README_CN.md", "mshub_res/assetsx/a/1/b.md"}) {
    auto parsed = ParseAssetPath(ignored);
    ASSERT_TRUE(parsed.ok()) << ignored;
    EXPECT_FALSE(parsed->has_value()) << ignored;
  }
  for (const char* refused : {"mshub_res/assets/mindspore/x.md", "mshub_res/assets/mindspore/a/b/c/d.md",
                              "mshub_res/assets/mindspore/tpu/1.0/x.md", "mshub_res/assets/mindspore/../1.0/x.md",
                              "mshub_res/assets/mindspore/1.0//x.md", "mshub_res/assets/mindspore/1.0/_cn.md"}) {
    EXPECT_FALSE(ParseAssetPath(refused).ok()) << refused;
  }
  EXPECT_FALSE(ParseAssetPath(std::string("mshub_res/assets/mindspore/1.0/a\0b.md", 37)).ok());
  EXPECT_FALSE(ParseAssetPath("mshub_res/assets/mindspore/1.0/" + std::string(300, 'a') + ".md").ok());
  EXPECT_FALSE(ParseAssetPath("mshub_res/assets/mindspore/ascend/" + std::string(250, '1') + "/a.md").ok());
}

TEST(MindSporeLayoutTest, BothGenerationsBecomeVersionModelFolders) {
  LayoutResult layout = BuildLayout({
      File("mshub_res/assets/mindspore/1.10/toynet_cifar10.md", GoodMarkdown()),
      File("mshub_res/assets/mindspore/gpu/1.0/toynet_v1_cifar10.md",
           GoodMarkdown("toynet", "https://dl.test/old/toynet_gpu.ckpt", kSha2)),
  });
  EXPECT_THAT(Paths(layout), ::testing::UnorderedElementsAre(
                                 "1.10/toynet_cifar10/toynet_cifar10.md",
                                 "1.10/toynet_cifar10/toynet_v1.ckpt",
                                 "1.0-gpu/toynet_v1_cifar10/toynet_v1_cifar10.md",
                                 "1.0-gpu/toynet_v1_cifar10/toynet_gpu.ckpt"));
  const Entry* md = Find(layout, "1.10/toynet_cifar10/toynet_cifar10.md");
  ASSERT_NE(md, nullptr);
  EXPECT_FALSE(md->remote.has_value());
  EXPECT_EQ(md->content, GoodMarkdown());
  const Entry* ckpt = Find(layout, "1.0-gpu/toynet_v1_cifar10/toynet_gpu.ckpt");
  ASSERT_NE(ckpt, nullptr);
  ASSERT_TRUE(ckpt->remote.has_value());
  EXPECT_EQ(ckpt->remote->url, "https://dl.test/old/toynet_gpu.ckpt");
  EXPECT_FALSE(ckpt->remote->size.has_value());
  EXPECT_EQ(ToHex(*ckpt->remote->sha256), kSha2);
  EXPECT_TRUE(layout.warnings.empty());
}

TEST(MindSporeLayoutTest, ChineseTwinSharesTheEnglishFolderAndNeedsIt) {
  LayoutResult layout = BuildLayout({
      File("mshub_res/assets/mindspore/1.6/toy_cn.md", "# 中文\n---\n模型：toy\n---\n"),
      File("mshub_res/assets/mindspore/1.6/toy.md", GoodMarkdown()),
      File("mshub_res/assets/mindspore/1.6/lonely_cn.md", "# x\n"),
  });
  EXPECT_THAT(Paths(layout), ::testing::ElementsAre("1.6/toy/toy.md", "1.6/toy/toy_cn.md",
                                                    "1.6/toy/toynet_v1.ckpt"));
  ASSERT_EQ(layout.warnings.size(), 1u);
  EXPECT_THAT(layout.warnings[0], HasSubstr("lonely_cn.md: no English twin"));
}

TEST(MindSporeLayoutTest, TwoAssetsOneWithTheSameBasenameIsSkipped) {
  const std::string two_assets = Replace(
      GoodMarkdown(), "license:",
      "-\n    file-format: mslite\n    asset-link: <https://dl.test/other/toynet_v1.ckpt>\n"
      "    asset-sha256: " + std::string(kSha2) + "\n-\n    file-format: mslite\n"
      "    asset-link: <https://dl.test/models/toynet.ms>\n    asset-sha256: " + std::string(kSha2) +
      "\nlicense:");
  LayoutResult layout = BuildLayout({File("mshub_res/assets/mindspore/2.0/toy.md", two_assets)});
  EXPECT_THAT(Paths(layout), ::testing::ElementsAre("2.0/toy/toy.md", "2.0/toy/toynet_v1.ckpt",
                                                    "2.0/toy/toynet.ms"));
  EXPECT_EQ(Find(layout, "2.0/toy/toynet_v1.ckpt")->remote->url, "https://dl.test/models/toynet_v1.ckpt");
  ASSERT_EQ(layout.warnings.size(), 1u);
  EXPECT_THAT(layout.warnings[0], HasSubstr("already has a different file named toynet_v1.ckpt"));
}

TEST(MindSporeLayoutTest, AssetsAreMindSporeModelsExceptOnnxExports) {
  const std::string assets = Replace(
      GoodMarkdown(), "license:",
      "-\n    file-format: onnx\n    asset-link: <https://dl.test/models/toynet.onnx>\n"
      "    asset-sha256: " + std::string(kSha2) + "\nlicense:");
  LayoutResult layout = BuildLayout({File("mshub_res/assets/mindspore/2.0/toy.md", assets)});
  EXPECT_EQ(Find(layout, "2.0/toy/toy.md")->framework, "");
  EXPECT_EQ(Find(layout, "2.0/toy/toynet_v1.ckpt")->framework, "mindspore");
  EXPECT_EQ(Find(layout, "2.0/toy/toynet.onnx")->framework, "onnx");
}

TEST(MindSporeLayoutTest, UnverifiableOrHostileAssetsAreSkippedButTheMarkdownStays) {
  LayoutResult layout = BuildLayout({
      File("mshub_res/assets/mindspore/2.3/short.md", GoodMarkdown("a", "https://dl.test/a.ckpt", "77dcaf0f")),
      File("mshub_res/assets/mindspore/2.3/dots.md", GoodMarkdown("b", "https://dl.test/x/..", test::kSha1)),
      File("mshub_res/assets/mindspore/2.3/own.md", GoodMarkdown("c", "https://dl.test/own.md", test::kSha1)),
      File("mshub_res/assets/mindspore/2.3/ftp.md", GoodMarkdown("d", "ftp://dl.test/a.ckpt", test::kSha1)),
  });
  EXPECT_THAT(Paths(layout), ::testing::ElementsAre("2.3/dots/dots.md", "2.3/ftp/ftp.md", "2.3/own/own.md",
                                                    "2.3/short/short.md"));
  ASSERT_EQ(layout.warnings.size(), 4u);
  EXPECT_THAT(layout.warnings[0], HasSubstr("usable file name"));
  EXPECT_THAT(layout.warnings[1], HasSubstr("not an http(s) URL"));
  EXPECT_THAT(layout.warnings[2], HasSubstr("different file named own.md"));
  EXPECT_THAT(layout.warnings[3], HasSubstr("not 64 hex digits"));
}

TEST(MindSporeLayoutTest, FirstBranchWinsTheWholeFolder) {
  LayoutResult layout = BuildLayout({
      File("mshub_res/assets/mindspore/1.3/toy.md", GoodMarkdown("t", "https://dl.test/new.ckpt"), "master"),
      File("mshub_res/assets/mindspore/1.3/toy.md", GoodMarkdown("t", "https://dl.test/old.ckpt"), "r1.3"),
      File("mshub_res/assets/mindspore/1.3/toy_cn.md", "# cn\n", "r1.3"),
      File("mshub_res/assets/mindspore/ascend/1.3/toy.md", GoodMarkdown("t", "https://dl.test/asc.ckpt"), "r1.3"),
  });
  EXPECT_THAT(Paths(layout), ::testing::ElementsAre("1.3/toy/toy.md", "1.3/toy/new.ckpt",
                                                    "1.3-ascend/toy/toy.md", "1.3-ascend/toy/asc.ckpt"));
}

TEST(MindSporeLayoutTest, OtherPublishersAreNotShown) {
  LayoutResult layout = BuildLayout({File("mshub_res/assets/noah-cvlab/gpu/1.0/ghost.md", GoodMarkdown())});
  EXPECT_TRUE(layout.entries.empty());
  EXPECT_TRUE(layout.warnings.empty());
}

}  // namespace
}  // namespace hubfs::hubs::mindspore
