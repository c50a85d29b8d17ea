#include "hubfs/hubs/mindspore/mindspore_markdown.h"

#include <gtest/gtest.h>

#include "unit/hubs/mindspore_test_markdown.h"

namespace hubfs::hubs::mindspore {
namespace {

using test::GoodMarkdown;
using test::kSha1;
using test::kSha2;
using test::Replace;

TEST(MindSporeMarkdownTest, ParsesTitleFieldsAndAsset) {
  auto md = ParseAssetMarkdown(GoodMarkdown());
  ASSERT_TRUE(md.ok()) << md.error().ToString();
  EXPECT_EQ(md->title, "Toy Net");
  EXPECT_EQ(md->title_line, 1);
  EXPECT_EQ(md->header_line, 3);
  EXPECT_EQ(md->Scalar("model-name"), "toynet");
  ASSERT_NE(md->Find("model-name"), nullptr);
  EXPECT_EQ(md->Find("model-name")->line, 4);
  EXPECT_EQ(md->Scalar("repo-link"), "<https://code.test/toy/models/tree/r1.10/toynet>");
  ASSERT_EQ(md->assets.size(), 1u);
  EXPECT_EQ(md->assets[0].file_format, "ckpt");
  EXPECT_EQ(md->assets[0].asset_link, "<https://dl.test/models/toynet_v1.ckpt>");
  EXPECT_EQ(md->assets[0].asset_sha256, kSha1);
  EXPECT_EQ(md->assets[0].line, 19);
  EXPECT_EQ(md->fields.front().key, "model-name");
  EXPECT_EQ(md->fields.back().key, "summary");
}

TEST(MindSporeMarkdownTest, KeepsFloatLookingVersionsAsWritten) {
  auto md = ParseAssetMarkdown(GoodMarkdown());
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->Scalar("model-version"), "1.10");
  EXPECT_EQ(md->Scalar("mindspore-version"), "1.10");
  EXPECT_EQ(md->Scalar("update-time"), "2023-2-17");
  EXPECT_EQ(md->Scalar("fine-tunable"), "True");
  EXPECT_FALSE(md->Find("fine-tunable")->quoted);
}

TEST(MindSporeMarkdownTest, AThirdDashLineMakesTheFileUnparsable) {
  int line = -1;
  auto md = ParseAssetMarkdown(GoodMarkdown() + "\n---\n\nmore text\n", &line);
  ASSERT_FALSE(md.ok());
  EXPECT_TRUE(md.error().IsDataLoss());
  EXPECT_NE(md.error().message().find("found 3"), std::string::npos) << md.error().message();
  EXPECT_GT(line, 24);
}

TEST(MindSporeMarkdownTest, AnyLineStartingWithThreeDashesCounts) {
  // A markdown table rule "----|----" or "--- " toggles too, as in the official client.
  EXPECT_FALSE(ParseAssetMarkdown(GoodMarkdown() + "-----|-----\n").ok());
  EXPECT_FALSE(ParseAssetMarkdown("# T\n---\nmodel-name: x\n").ok());
  EXPECT_FALSE(ParseAssetMarkdown("no front matter at all\n").ok());
}

TEST(MindSporeMarkdownTest, EvaluationDashBecomesNo) {
  auto md = ParseAssetMarkdown(Replace(GoodMarkdown(), "evaluation: acc88.0", "evaluation: -"));
  ASSERT_TRUE(md.ok()) << md.error().ToString();
  EXPECT_EQ(md->Scalar("evaluation"), "no");
  // Every '-' of that line is rewritten, not only the value.
  auto odd = ParseAssetMarkdown(Replace(GoodMarkdown(), "evaluation: acc88.0", "evaluation: -top-1"));
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->Scalar("evaluation"), "notopno1");
}

TEST(MindSporeMarkdownTest, TwoAssetsAndNoAsset) {
  const std::string second =
      "-\n    file-format: mslite\n    asset-link: <https://dl.test/models/toynet.ms>\n"
      "    asset-sha256: " + std::string(kSha2) + "\n";
  auto two = ParseAssetMarkdown(Replace(GoodMarkdown(), "license:", second + "license:"));
  ASSERT_TRUE(two.ok()) << two.error().ToString();
  ASSERT_EQ(two->assets.size(), 2u);
  EXPECT_EQ(two->assets[1].file_format, "mslite");
  EXPECT_EQ(two->assets[1].asset_sha256, kSha2);

  std::string none = GoodMarkdown();
  none.erase(none.find("asset:\n"), none.find("license:") - none.find("asset:\n"));
  auto no_asset = ParseAssetMarkdown(none);
  ASSERT_TRUE(no_asset.ok()) << no_asset.error().ToString();
  EXPECT_TRUE(no_asset->assets.empty());
  EXPECT_TRUE(no_asset->asset_is_list);
}

TEST(MindSporeMarkdownTest, IncompleteAssetEntriesAreKeptForTheValidator) {
  auto md = ParseAssetMarkdown(Replace(GoodMarkdown(), "    asset-sha256: " + std::string(kSha1) + "\n", ""));
  ASSERT_TRUE(md.ok());
  ASSERT_EQ(md->assets.size(), 1u);
  EXPECT_FALSE(md->assets[0].asset_sha256.has_value());
  auto scalar_asset = ParseAssetMarkdown(Replace(GoodMarkdown(), "asset:\n-\n", "asset: 3\nx:\n-\n"));
  ASSERT_TRUE(scalar_asset.ok()) << scalar_asset.error().ToString();
  EXPECT_FALSE(scalar_asset->asset_is_list);
}

TEST(MindSporeMarkdownTest, InvalidYamlReportsItsLine) {
  int line = 0;
  auto md = ParseAssetMarkdown(Replace(GoodMarkdown(), "author: Toy team", "author: [unclosed"), &line);
  ASSERT_FALSE(md.ok());
  EXPECT_GE(line, 11);
  auto scalar = ParseAssetMarkdown("# T\n---\njust text\n---\n", &line);
  ASSERT_FALSE(scalar.ok());
  EXPECT_EQ(line, 3);
  EXPECT_FALSE(ParseAssetMarkdown("# T\n---\n---\n").ok());  // empty front matter
}

TEST(MindSporeMarkdownTest, CrLfLinesAndLists) {
  std::string md = GoodMarkdown();
  std::string crlf;
  for (char c : md) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  crlf = Replace(crlf, "license:", "input-shape: [224, 224, 3]\r\nlicense:");
  auto parsed = ParseAssetMarkdown(crlf);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->Scalar("model-version"), "1.10");
  const FrontMatterField* shape = parsed->Find("input-shape");
  ASSERT_NE(shape, nullptr);
  EXPECT_EQ(shape->kind, ValueKind::kSequence);
  EXPECT_EQ(shape->text, "[224, 224, 3]");
  EXPECT_EQ(shape->items.size(), 3u);
}

TEST(MindSporeMarkdownTest, BoundsInputAndHostileYaml) {
  EXPECT_EQ(ParseAssetMarkdown(std::string(kMaxMarkdownBytes + 1, 'a')).error().code(),
            Code::kResourceExhausted);
  // Deep nesting and alias fan-out end as errors or bounded renderings, never crashes.
  std::string deep = "---\nk: " + std::string(5000, '[') + std::string(5000, ']') + "\n---\n";
  (void)ParseAssetMarkdown(deep);
  std::string bomb = "---\na: &a [x, x, x, x, x, x, x, x]\n";
  std::string prev = "a";
  for (int i = 0; i < 12; ++i) {
    const std::string name = "b" + std::to_string(i);
    bomb += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n";
    prev = name;
  }
  bomb += "---\n";
  auto parsed = ParseAssetMarkdown(bomb);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_LE(parsed->Find("b11")->text.size(), 8192u);
}

TEST(MindSporeMarkdownTest, StripAngleBracketsAndUrlBasename) {
  EXPECT_EQ(StripAngleBrackets(" <https://a.test/x.ckpt> "), "https://a.test/x.ckpt");
  EXPECT_EQ(StripAngleBrackets("https://a.test/x.ckpt"), "https://a.test/x.ckpt");
  EXPECT_EQ(UrlBasename("https://a.test/m/r1.10/x_acc88.0.ckpt"), "x_acc88.0.ckpt");
  EXPECT_EQ(UrlBasename("https://a.test/m/x.ckpt?token=1#f"), "x.ckpt");
  EXPECT_EQ(UrlBasename("https://a.test"), "");
  EXPECT_EQ(UrlBasename("https://a.test/dir/"), "");
  EXPECT_EQ(UrlBasename("https://a.test/.."), "..");  // callers apply IsSafeName
}

}  // namespace
}  // namespace hubfs::hubs::mindspore
