#include "hubfs/hubs/mindspore/mindspore_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "unit/hubs/mindspore_test_markdown.h"

namespace hubfs::hubs::mindspore {
namespace {

using ::testing::HasSubstr;
using test::GoodMarkdown;
using test::kSha1;
using test::Replace;

std::string Messages(const std::vector<Problem>& problems) {
  std::string out;
  for (const Problem& p : problems) out += std::to_string(p.line) + ": " + p.message + "\n";
  return out;
}

TEST(MindSporeValidatorTest, GoodFilePasses) {
  EXPECT_EQ(Messages(ValidateAssetText(GoodMarkdown())), "");
}

TEST(MindSporeValidatorTest, NoAssetIsFine) {
  std::string md = GoodMarkdown();
  md.erase(md.find("asset:\n"), md.find("license:") - md.find("asset:\n"));
  EXPECT_EQ(Messages(ValidateAssetText(md)), "");
}

TEST(MindSporeValidatorTest, UnparsableFileIsOneProblemWithItsLine) {
  auto problems = ValidateAssetText(GoodMarkdown() + "---\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].line, 29);
  EXPECT_THAT(problems[0].message, HasSubstr("unparsable"));
}

TEST(MindSporeValidatorTest, MissingRequiredFields) {
  auto problems = ValidateAssetText(Replace(Replace(GoodMarkdown(), "license: Apache2.0\n", ""),
                                            "backbone-name: toynet\n", ""));
  EXPECT_EQ(Messages(problems), "0: field backbone-name is required\n0: field license is required\n");
}

TEST(MindSporeValidatorTest, TypesAndAllowLists) {
  std::string md = GoodMarkdown();
  md = Replace(md, "fine-tunable: True", "fine-tunable: 'True'");
  md = Replace(md, "module-type: cv-classification", "module-type: vision-a-b");
  md = Replace(md, "used-for: inference", "used-for: Inference/training");
  md = Replace(md, "license:", "accuracy: high\nallow-cache-ckpt: yes\ninfer-backend: ascend/tpu\nlicense:");
  const std::string text = Messages(ValidateAssetText(md));
  EXPECT_THAT(text, HasSubstr("6: module-type 'vision-a-b' has more than one '-'"));
  EXPECT_THAT(text, HasSubstr("6: module-type 'vision' is not one of"));
  EXPECT_THAT(text, HasSubstr("7: fine-tunable must be a YAML bool"));
  EXPECT_THAT(text, HasSubstr("15: used-for 'training' is not one of"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("'Inference'")));  // case-insensitive, as the official tool
  EXPECT_THAT(text, HasSubstr("accuracy must be a number"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("allow-cache-ckpt")));  // "yes" is a YAML 1.1 bool
  EXPECT_THAT(text, HasSubstr("infer-backend 'tpu'"));
}

TEST(MindSporeValidatorTest, NumbersAsPyYamlReadsThem) {
  for (const char* ok : {"accuracy: 0.576", "accuracy: 88", "accuracy: -1.5e+3", "accuracy: .5"}) {
    EXPECT_EQ(Messages(ValidateAssetText(Replace(GoodMarkdown(), "license:", std::string(ok) + "\nlicense:"))), "")
        << ok;
  }
  EXPECT_NE(Messages(ValidateAssetText(Replace(GoodMarkdown(), "license:", "accuracy: '0.5'\nlicense:"))), "");
}

TEST(MindSporeValidatorTest, BadSha256AndIncompleteAssets) {
  auto problems = ValidateAssetText(Replace(GoodMarkdown(), kSha1, "77dcaf0f"));
  EXPECT_EQ(Messages(problems), "19: asset 1: asset-sha256 must be 64 hex digits, got '77dcaf0f'\n");
  auto missing = ValidateAssetText(Replace(GoodMarkdown(), "    file-format: ckpt\n", ""));
  EXPECT_EQ(Messages(missing), "19: asset 1: file-format is required\n");
  auto format = ValidateAssetText(Replace(GoodMarkdown(), "file-format: ckpt", "file-format: PTH"));
  EXPECT_THAT(Messages(format), HasSubstr("file-format 'PTH' is not one of"));
  auto upper = ValidateAssetText(Replace(GoodMarkdown(), "file-format: ckpt", "file-format: MINDIR"));
  EXPECT_EQ(Messages(upper), "");
}

TEST(MindSporeValidatorTest, LinksMustBeBracketedHttpUrls) {
  auto bare = ValidateAssetText(Replace(GoodMarkdown(), "<https://code.test/toy/models/tree/r1.10/toynet>",
                                        "https://code.test/toy"));
  EXPECT_THAT(Messages(bare), HasSubstr("13: repo-link must be an http(s) URL in angle brackets"));
  auto ftp = ValidateAssetText(Replace(GoodMarkdown(), "<https://dl.test/models/toynet_v1.ckpt>",
                                       "<ftp://dl.test/x.ckpt>"));
  EXPECT_THAT(Messages(ftp), HasSubstr("asset-link must be an http(s) URL"));
  auto dir = ValidateAssetText(Replace(GoodMarkdown(), "<https://dl.test/models/toynet_v1.ckpt>",
                                       "<https://dl.test/models/>"));
  EXPECT_THAT(Messages(dir), HasSubstr("usable file name"));
  EXPECT_TRUE(IsBracketedHttpUrl("<http://127.0.0.1:8080/a>"));
  EXPECT_FALSE(IsBracketedHttpUrl("<https://>"));
  EXPECT_FALSE(IsBracketedHttpUrl("<https://a b/c>"));
}

TEST(MindSporeValidatorTest, NoExtraColonExceptInAllowedKeys) {
  auto problems = ValidateAssetText(Replace(GoodMarkdown(), "summary: toynet is used for cv",
                                            "summary: 'toynet: used for cv'"));
  EXPECT_EQ(Messages(problems),
            "23: remove the extra ':' from the value of summary: 'toynet: used for cv'\n");
  EXPECT_EQ(Messages(ValidateAssetText(
                Replace(GoodMarkdown(), "evaluation: acc88.0", "evaluation: 'top1: 88'"))),
            "");
  auto map_value = ValidateAssetText(Replace(GoodMarkdown(), "user-id: Toy", "user-id: {a: b}"));
  EXPECT_THAT(Messages(map_value), HasSubstr("14: remove the extra ':'"));
}

TEST(MindSporeValidatorTest, EnglishTwinName) {
  EXPECT_EQ(EnglishTwinName("alexnet_cifar10_cn.md"), "alexnet_cifar10.md");
  EXPECT_EQ(EnglishTwinName("alexnet_cifar10.md"), "");
  EXPECT_EQ(EnglishTwinName("_cn.md"), "");
}

TEST(MindSporeValidatorTest, AssetProblemsAloneIgnoreOtherFields) {
  auto md = ParseAssetMarkdown(Replace(GoodMarkdown(), "fine-tunable: True", "fine-tunable: maybe"));
  ASSERT_TRUE(md.ok());
  EXPECT_TRUE(AssetProblems(*md).empty());
  EXPECT_FALSE(ValidateAssetMarkdown(*md).empty());
}

}  // namespace
}  // namespace hubfs::hubs::mindspore
