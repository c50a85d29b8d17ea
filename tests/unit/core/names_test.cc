#include "hubfs/core/names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hubfs {
namespace {

using ::testing::ElementsAre;

TEST(IsSafeNameTest, AcceptsOrdinaryNames) {
  EXPECT_TRUE(IsSafeName("a"));
  EXPECT_TRUE(IsSafeName("resnet50-v1-12.onnx"));
  EXPECT_TRUE(IsSafeName("..."));
  EXPECT_TRUE(IsSafeName(".hidden"));
  EXPECT_TRUE(IsSafeName("a..b"));
  EXPECT_TRUE(IsSafeName("with space"));
  EXPECT_TRUE(IsSafeName("\xc3\xa9t\xc3\xa9"));  // UTF-8 bytes >= 0x80 are not control characters
}

TEST(IsSafeNameTest, RejectsEmptyDotAndDotDot) {
  EXPECT_FALSE(IsSafeName(""));
  EXPECT_FALSE(IsSafeName("."));
  EXPECT_FALSE(IsSafeName(".."));
}

TEST(IsSafeNameTest, RejectsSlash) {
  EXPECT_FALSE(IsSafeName("a/b"));
  EXPECT_FALSE(IsSafeName("/"));
  EXPECT_FALSE(IsSafeName("a/"));
  EXPECT_FALSE(IsSafeName("/a"));
}

TEST(IsSafeNameTest, RejectsNul) {
  EXPECT_FALSE(IsSafeName(std::string("a\0b", 3)));
  EXPECT_FALSE(IsSafeName(std::string("\0", 1)));
}

TEST(IsSafeNameTest, RejectsEveryControlCharacter) {
  for (int c = 0; c < 0x20; ++c) {
    EXPECT_FALSE(IsSafeName("a" + std::string(1, static_cast<char>(c)) + "b")) << c;
  }
  EXPECT_FALSE(IsSafeName("a\x7f"));
  EXPECT_FALSE(IsSafeName("line\n"));
  EXPECT_FALSE(IsSafeName("\ttab"));
}

TEST(IsSafeNameTest, LengthLimitIsNameMax) {
  EXPECT_EQ(kMaxNameBytes, 255u);
  EXPECT_TRUE(IsSafeName(std::string(255, 'a')));
  EXPECT_FALSE(IsSafeName(std::string(256, 'a')));
  EXPECT_FALSE(IsSafeName(std::string(1000, 'a')));
}

TEST(HasControlCharsTest, DetectsNulAndControlCharacters) {
  EXPECT_FALSE(HasControlChars(""));
  EXPECT_FALSE(HasControlChars("plain text ~!"));
  EXPECT_FALSE(HasControlChars("\x80\xff"));
  EXPECT_TRUE(HasControlChars(std::string("x\0", 2)));
  EXPECT_TRUE(HasControlChars("\x1f"));
  EXPECT_TRUE(HasControlChars("\x7f"));
  EXPECT_TRUE(HasControlChars("a\rb"));
  EXPECT_FALSE(HasControlChars(" "));  // 0x20 is the first printable character
}

TEST(SplitSafePathTest, SplitsARelativePath) {
  auto parts = SplitSafePath("validated/vision/x.onnx");
  ASSERT_TRUE(parts.has_value());
  EXPECT_THAT(*parts, ElementsAre("validated", "vision", "x.onnx"));
}

TEST(SplitSafePathTest, SingleComponent) {
  auto parts = SplitSafePath("model.onnx");
  ASSERT_TRUE(parts.has_value());
  EXPECT_THAT(*parts, ElementsAre("model.onnx"));
}

TEST(SplitSafePathTest, RejectsEmptyAndAbsolute) {
  EXPECT_FALSE(SplitSafePath("").has_value());
  EXPECT_FALSE(SplitSafePath("/").has_value());
  EXPECT_FALSE(SplitSafePath("/etc/passwd").has_value());
}

TEST(SplitSafePathTest, RejectsEmptyComponents) {
  EXPECT_FALSE(SplitSafePath("a//b").has_value());
  EXPECT_FALSE(SplitSafePath("a/b/").has_value());
  EXPECT_FALSE(SplitSafePath("a/").has_value());
}

TEST(SplitSafePathTest, RejectsDotAndDotDotComponents) {
  EXPECT_FALSE(SplitSafePath("..").has_value());
  EXPECT_FALSE(SplitSafePath("../x.onnx").has_value());
  EXPECT_FALSE(SplitSafePath("a/../../etc/passwd").has_value());
  EXPECT_FALSE(SplitSafePath("a/..").has_value());
  EXPECT_FALSE(SplitSafePath("./a").has_value());
  EXPECT_FALSE(SplitSafePath("a/./b").has_value());
}

TEST(SplitSafePathTest, RejectsUnsafeComponents) {
  EXPECT_FALSE(SplitSafePath(std::string("a/b\0c/d", 7)).has_value());
  EXPECT_FALSE(SplitSafePath("a/b\nc").has_value());
  EXPECT_FALSE(SplitSafePath("a/" + std::string(256, 'x')).has_value());
  auto ok = SplitSafePath("a/" + std::string(255, 'x'));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->size(), 2u);
}

TEST(SlugifyTest, Examples) {
  EXPECT_EQ(Slugify("Squeeze Net 1.0"), "squeeze-net-1.0");
  EXPECT_EQ(Slugify("ResNet50"), "resnet50");
  EXPECT_EQ(Slugify("BERT-Squad"), "bert-squad");
  EXPECT_EQ(Slugify("Emotion FERPlus int8"), "emotion-ferplus-int8");
  EXPECT_EQ(Slugify("VGG 16"), "vgg-16");
  EXPECT_EQ(Slugify("VGG-16"), "vgg-16");
}

TEST(SlugifyTest, KeepsDotsAndUnderscores) {
  EXPECT_EQ(Slugify("mobilenet_v2.1.0"), "mobilenet_v2.1.0");
  EXPECT_EQ(Slugify("_x_"), "_x_");
}

TEST(SlugifyTest, CollapsesRunsAndTrimsDashes) {
  EXPECT_EQ(Slugify("a  --  b"), "a-b");
  EXPECT_EQ(Slugify("--a--"), "a");
  EXPECT_EQ(Slugify("  Tiny YOLOv3 (int8)  "), "tiny-yolov3-int8");
  EXPECT_EQ(Slugify("a/b\\c"), "a-b-c");
}

TEST(SlugifyTest, NonAsciiBytesBecomeDashes) { EXPECT_EQ(Slugify("caf\xc3\xa9 net"), "caf-net"); }

TEST(SlugifyTest, ReturnsEmptyWhenNothingUsableIsLeft) {
  EXPECT_EQ(Slugify(""), "");
  EXPECT_EQ(Slugify("  --  "), "");
  EXPECT_EQ(Slugify(".."), "");
  EXPECT_EQ(Slugify("."), "");
  EXPECT_EQ(Slugify("!!!"), "");
  EXPECT_EQ(Slugify(std::string("\0\x01", 2)), "");
}

TEST(SlugifyTest, DotDotSurroundedByJunkIsStillRejected) {
  EXPECT_EQ(Slugify(" .. "), "");
  EXPECT_EQ(Slugify("/../"), "");
}

TEST(SlugifyTest, ResultIsAlwaysASafeNameOrEmpty) {
  const std::string inputs[] = {
      "",
      ".",
      "..",
      "...",
      "a/b",
      std::string(300, 'A'),
      std::string(255, 'b'),
      std::string("x\0y", 3),
      "\x7f\x7f",
      "Z",
      " - . - ",
  };
  for (const std::string& in : inputs) {
    const std::string slug = Slugify(in);
    EXPECT_TRUE(slug.empty() || IsSafeName(slug)) << slug;
  }
  EXPECT_EQ(Slugify(std::string(255, 'B')), std::string(255, 'b'));
  EXPECT_EQ(Slugify(std::string(256, 'B')), "");
}

TEST(SlugifyTest, IsIdempotent) {
  for (const char* name : {"Squeeze Net 1.0", "BERT-Squad", "a_b.c", "x--y"}) {
    const std::string once = Slugify(name);
    EXPECT_EQ(Slugify(once), once) << name;
  }
}

}  // namespace
}  // namespace hubfs
