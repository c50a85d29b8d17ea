#include "cache/record_codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace hubfs::cache {
namespace {

BlobRecord SampleBlob() {
  BlobRecord r;
  r.size = 0x0102030405060708ull;
  r.sha256 = Sha256::Of("sample");
  r.published = true;
  r.source_url = std::string("http://hub/a\0b", 14);  // embedded NUL survives
  r.created = -5;                                     // before the epoch
  r.last_access = std::numeric_limits<int64_t>::max();
  r.state = BlobState::kPoisoned;
  r.pinned = true;
  r.cached_bytes = 0x1122334455667788ull;
  r.note = "sha256 mismatch: expected a, got b";
  return r;
}

BlockInfo SampleBlock(bool present) {
  BlockInfo b;
  b.digest_known = true;
  b.present = present;
  for (size_t i = 0; i < b.digest.size(); ++i) b.digest[i] = static_cast<uint8_t>(0xf0 + i);
  return b;
}

DocRecord SampleDoc() {
  DocRecord r;
  r.body = std::string("{\"k\": 1}\0\xff binary", 17);
  r.fetched_at = 1700000000;
  r.etag = "W/\"abc\"";
  r.last_modified = "Wed, 21 Oct 2015 07:28:00 GMT";
  return r;
}

void ExpectSameBlob(const BlobRecord& a, const BlobRecord& b) {
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.published, b.published);
  EXPECT_EQ(a.source_url, b.source_url);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.last_access, b.last_access);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.pinned, b.pinned);
  EXPECT_EQ(a.cached_bytes, b.cached_bytes);
  EXPECT_EQ(a.note, b.note);
}

TEST(RecordCodecTest, BlobRecordRoundTrips) {
  const BlobRecord in = SampleBlob();
  auto out = DecodeBlobRecord(EncodeBlobRecord(in));
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  ExpectSameBlob(*out, in);
}

TEST(RecordCodecTest, DefaultBlobRecordRoundTrips) {
  auto out = DecodeBlobRecord(EncodeBlobRecord(BlobRecord{}));
  ASSERT_TRUE(out.ok());
  ExpectSameBlob(*out, BlobRecord{});
}

TEST(RecordCodecTest, UnpublishedFlagRoundTrips) {
  BlobRecord in = SampleBlob();
  in.published = false;
  auto out = DecodeBlobRecord(EncodeBlobRecord(in));
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->published);
}

TEST(RecordCodecTest, EveryBlobStateRoundTrips) {
  for (BlobState state : {BlobState::kPartial, BlobState::kVerified, BlobState::kPoisoned}) {
    BlobRecord in = SampleBlob();
    in.state = state;
    auto out = DecodeBlobRecord(EncodeBlobRecord(in));
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->state, state);
  }
}

TEST(RecordCodecTest, FlagsRoundTripIndependently) {
  for (int bits = 0; bits < 8; ++bits) {
    BlobRecord in = SampleBlob();
    if ((bits & 1) == 0) in.sha256.reset();
    in.published = (bits & 2) != 0;
    in.pinned = (bits & 4) != 0;
    auto out = DecodeBlobRecord(EncodeBlobRecord(in));
    ASSERT_TRUE(out.ok()) << bits;
    ExpectSameBlob(*out, in);
  }
}

TEST(RecordCodecTest, MissingDigestStaysMissingEvenIfAllZero) {
  BlobRecord in = SampleBlob();
  in.sha256 = Digest{};  // a present all-zero digest is not the same as none
  auto out = DecodeBlobRecord(EncodeBlobRecord(in));
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out->sha256.has_value());
  EXPECT_EQ(*out->sha256, Digest{});
  in.sha256.reset();
  out = DecodeBlobRecord(EncodeBlobRecord(in));
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->sha256.has_value());
}

TEST(RecordCodecTest, UnknownBlobStateIsRejected) {
  std::string bytes = EncodeBlobRecord(SampleBlob());
  const size_t state_at = 1 + 8 + 8 + 32;
  ASSERT_EQ(bytes[state_at], static_cast<char>(BlobState::kPoisoned));
  bytes[state_at] = 3;
  auto out = DecodeBlobRecord(bytes);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), Code::kDataLoss);
}

TEST(RecordCodecTest, BlockRecordRoundTrips) {
  for (bool present : {true, false}) {
    const BlockInfo in = SampleBlock(present);
    const std::string bytes = EncodeBlockRecord(in);
    EXPECT_EQ(bytes.size(), 17u) << "a flags byte and the 16-byte digest";
    EXPECT_EQ(bytes[0], present ? 1 : 0);
    auto out = DecodeBlockRecord(bytes);
    ASSERT_TRUE(out.ok()) << out.error().ToString();
    EXPECT_TRUE(out->digest_known) << "a stored block record always has its digest";
    EXPECT_EQ(out->present, present);
    EXPECT_EQ(out->digest, in.digest);
  }
}

TEST(RecordCodecTest, MalformedBlockRecordsAreRejected) {
  const std::string good = EncodeBlockRecord(SampleBlock(true));
  for (size_t n = 0; n < good.size(); ++n) {
    auto out = DecodeBlockRecord(std::string_view(good).substr(0, n));
    ASSERT_FALSE(out.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(out.error().code(), Code::kDataLoss);
  }
  EXPECT_FALSE(DecodeBlockRecord(good + "x").ok());
  for (int flags : {2, 3, 0x80, 0xff}) {
    std::string bad = good;
    bad[0] = static_cast<char>(flags);
    EXPECT_FALSE(DecodeBlockRecord(bad).ok()) << "flags " << flags;
  }
}

TEST(RecordCodecTest, DocRecordRoundTrips) {
  const DocRecord in = SampleDoc();
  auto out = DecodeDocRecord(EncodeDocRecord(in));
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(out->body, in.body);
  EXPECT_EQ(out->fetched_at, in.fetched_at);
  EXPECT_EQ(out->etag, in.etag);
  EXPECT_EQ(out->last_modified, in.last_modified);
}

TEST(RecordCodecTest, BlobLayoutIsTagThenLittleEndianSize) {
  const std::string bytes = EncodeBlobRecord(SampleBlob());
  ASSERT_GE(bytes.size(), 9u);
  EXPECT_EQ(bytes[0], 'B');
  EXPECT_EQ(bytes.substr(1, 8), std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
}

TEST(RecordCodecTest, EveryTruncationOfABlobRecordIsRejected) {
  const std::string bytes = EncodeBlobRecord(SampleBlob());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto out = DecodeBlobRecord(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(out.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(out.error().code(), Code::kDataLoss);
  }
}

TEST(RecordCodecTest, EveryTruncationOfADocRecordIsRejected) {
  const std::string bytes = EncodeDocRecord(SampleDoc());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto out = DecodeDocRecord(std::string_view(bytes).substr(0, n));
    ASSERT_FALSE(out.ok()) << "prefix of " << n << " bytes";
    EXPECT_EQ(out.error().code(), Code::kDataLoss);
  }
}

TEST(RecordCodecTest, TrailingBytesAreRejected) {
  EXPECT_FALSE(DecodeBlobRecord(EncodeBlobRecord(SampleBlob()) + "x").ok());
  EXPECT_FALSE(DecodeDocRecord(EncodeDocRecord(SampleDoc()) + "x").ok());
}

TEST(RecordCodecTest, WrongRecordTypeIsRejected) {
  EXPECT_FALSE(DecodeBlobRecord(EncodeDocRecord(SampleDoc())).ok());
  EXPECT_FALSE(DecodeDocRecord(EncodeBlobRecord(SampleBlob())).ok());
  EXPECT_FALSE(DecodeBlockRecord(EncodeBlobRecord(SampleBlob())).ok());
}

TEST(RecordCodecTest, HugeLengthPrefixIsRejectedWithoutCrashing) {
  // A doc record whose body claims 2^64-1 bytes.
  std::string bytes = "D" + std::string(8, '\xff') + "short";
  auto out = DecodeDocRecord(bytes);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), Code::kDataLoss);

  // A blob record whose URL length overflows pos + n.
  std::string blob = EncodeBlobRecord(SampleBlob());
  const size_t url_length_at = 1 + 8 + 8 + 32 + 8 + 8;  // tag, size, flags, sha, state, cached
  ASSERT_EQ(blob.substr(url_length_at, 8), std::string("\x0e\0\0\0\0\0\0\0", 8));
  blob.replace(url_length_at, 8, std::string(8, '\xff'));
  EXPECT_FALSE(DecodeBlobRecord(blob).ok());
}

TEST(RecordCodecTest, GarbageIsRejected) {
  for (std::string_view garbage :
       {std::string_view(""), std::string_view("B"), std::string_view("D"),
        std::string_view("garbage"), std::string_view("\0\0\0\0\0\0\0\0\0\0", 10)}) {
    EXPECT_FALSE(DecodeBlobRecord(garbage).ok()) << garbage;
    EXPECT_FALSE(DecodeDocRecord(garbage).ok()) << garbage;
  }
}

}  // namespace
}  // namespace hubfs::cache
