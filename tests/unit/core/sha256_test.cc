#include "hubfs/core/sha256.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <string_view>

namespace hubfs {
namespace {

constexpr char kEmptyHex[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbcHex[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
// FIPS 180-2 two-block message.
constexpr char kTwoBlock[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr char kTwoBlockHex[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr char kMillionAHex[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(ToHex(Sha256::Of("")), kEmptyHex);
  EXPECT_EQ(ToHex(Sha256::Of("abc")), kAbcHex);
  EXPECT_EQ(ToHex(Sha256::Of(kTwoBlock)), kTwoBlockHex);
}

TEST(Sha256Test, FinishWithoutUpdateIsTheEmptyDigest) {
  Sha256 h;
  EXPECT_EQ(ToHex(h.Finish()), kEmptyHex);
}

TEST(Sha256Test, HashesEmbeddedNulBytes) {
  // "a\0b" and "a" must differ: the length comes from the view, not from strlen.
  EXPECT_NE(Sha256::Of(std::string("a\0b", 3)), Sha256::Of("a"));
  EXPECT_NE(Sha256::Of(std::string("\0", 1)), Sha256::Of(""));
}

TEST(Sha256Test, IncrementalEqualsOneShotForEverySplit) {
  const std::string text = kTwoBlock;
  const Digest expected = Sha256::Of(text);
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    Sha256 h;
    h.Update(std::string_view(text).substr(0, cut));
    h.Update(std::string_view(text).substr(cut));
    EXPECT_EQ(h.Finish(), expected) << "cut at " << cut;
  }
}

TEST(Sha256Test, ByteAtATimeAndEmptyUpdates) {
  Sha256 h;
  h.Update("");
  for (char c : std::string("abc")) {
    h.Update(std::string_view(&c, 1));
    h.Update("");
  }
  EXPECT_EQ(ToHex(h.Finish()), kAbcHex);
}

TEST(Sha256Test, MillionAInChunks) {
  const std::string chunk(1000, 'a');
  Sha256 h;
  for (int i = 0; i < 1000; ++i) h.Update(chunk);
  EXPECT_EQ(ToHex(h.Finish()), kMillionAHex);
  EXPECT_EQ(ToHex(Sha256::Of(std::string(1000000, 'a'))), kMillionAHex);
}

TEST(HexTest, ToHexIsLowerCaseAndSixtyFourDigits) {
  Digest d{};
  for (size_t i = 0; i < d.size(); ++i) d[i] = static_cast<uint8_t>(i * 8 + 7);
  const std::string hex = ToHex(d);
  EXPECT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.substr(0, 8), "070f171f");
  EXPECT_EQ(hex.substr(56), "e7eff7ff");
  Digest all_ff;
  all_ff.fill(0xff);
  EXPECT_EQ(ToHex(all_ff), std::string(64, 'f'));
  EXPECT_EQ(ToHex(Digest{}), std::string(64, '0'));
}

TEST(HexTest, RoundTrip) {
  const Digest d = Sha256::Of("abc");
  auto back = DigestFromHex(ToHex(d));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, d);
}

TEST(HexTest, AcceptsUpperAndMixedCase) {
  std::string upper = kAbcHex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto from_upper = DigestFromHex(upper);
  ASSERT_TRUE(from_upper.has_value());
  EXPECT_EQ(ToHex(*from_upper), kAbcHex);

  std::string mixed = kAbcHex;
  for (size_t i = 0; i < mixed.size(); i += 2) {
    mixed[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[i])));
  }
  auto from_mixed = DigestFromHex(mixed);
  ASSERT_TRUE(from_mixed.has_value());
  EXPECT_EQ(ToHex(*from_mixed), kAbcHex);
}

TEST(HexTest, RejectsWrongLength) {
  const std::string good = kAbcHex;
  EXPECT_FALSE(DigestFromHex("").has_value());
  EXPECT_FALSE(DigestFromHex(good.substr(0, 63)).has_value());
  EXPECT_FALSE(DigestFromHex(good + "0").has_value());
  EXPECT_FALSE(DigestFromHex(good + good).has_value());
}

TEST(HexTest, RejectsNonHexCharacters) {
  const std::string good = kAbcHex;
  for (char bad : {'g', 'G', 'x', ' ', '-', ':', '\0', '/', '@', '`'}) {
    for (size_t pos : {size_t{0}, size_t{1}, size_t{31}, size_t{63}}) {
      std::string hex = good;
      hex[pos] = bad;
      EXPECT_FALSE(DigestFromHex(hex).has_value()) << "char " << int(bad) << " at " << pos;
    }
  }
  EXPECT_FALSE(DigestFromHex("0x" + good.substr(2)).has_value());
  EXPECT_FALSE(DigestFromHex(" " + good.substr(1)).has_value());
}

}  // namespace
}  // namespace hubfs
