#include "fs/block_sinks.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/temp_dir.h"

namespace hubfs::fs {
namespace {

constexpr char kUrl[] = "http://hub/model.onnx";

net::HttpResponse Response(int status, std::optional<std::string> content_range = std::nullopt,
                           std::string header_name = "Content-Range") {
  net::HttpResponse r;
  r.status = status;
  if (content_range) r.headers.emplace_back(std::move(header_name), *content_range);
  return r;
}

bool Mentions(const Status& s, std::string_view part) {
  return s.message().find(part) != std::string::npos;
}

TEST(CheckRangeResponseTest, MatchingPartialContentIsAccepted) {
  EXPECT_TRUE(CheckRangeResponse(Response(206, "bytes 0-99/1000"), 0, 99, 1000, kUrl).ok());
  EXPECT_TRUE(CheckRangeResponse(Response(206, "bytes 900-999/1000"), 900, 999, 1000, kUrl).ok());
  EXPECT_TRUE(CheckRangeResponse(Response(206, "bytes 5-5/6"), 5, 5, 6, kUrl).ok());
  // The whole file as 206 is fine too.
  EXPECT_TRUE(CheckRangeResponse(Response(206, "bytes 0-999/1000"), 0, 999, 1000, kUrl).ok());
}

TEST(CheckRangeResponseTest, HeaderNameIsCaseInsensitive) {
  EXPECT_TRUE(
      CheckRangeResponse(Response(206, "bytes 0-99/1000", "content-range"), 0, 99, 1000, kUrl).ok());
}

TEST(CheckRangeResponseTest, UnknownTotalIsAccepted) {
  EXPECT_TRUE(CheckRangeResponse(Response(206, "bytes 100-199/*"), 100, 199, 1000, kUrl).ok());
}

TEST(CheckRangeResponseTest, WrongContentRangeIsDataLoss) {
  struct Case {
    const char* header;
    const char* why;
  } cases[] = {
      {"bytes 1-100/1000", "other range"},
      {"bytes 0-98/1000", "shorter range"},
      {"bytes 0-100/1000", "longer range"},
      {"bytes 0-99/999", "other total: the file changed"},
      {"bytes 0-99/1001", "other total"},
      {"bytes 0-99/1000x", "junk after the total"},
      {"bytes 0-99", "no total"},
      {"0-99/1000", "no unit"},
      {"items 0-99/1000", "other unit"},
      {"", "empty"},
      {"garbage", "garbage"},
  };
  for (const auto& c : cases) {
    Status s = CheckRangeResponse(Response(206, c.header), 0, 99, 1000, kUrl);
    EXPECT_EQ(s.code(), Code::kDataLoss) << c.why << ": '" << c.header << "'";
    EXPECT_TRUE(Mentions(s, kUrl)) << s.ToString();
  }
}

TEST(CheckRangeResponseTest, MissingContentRangeOn206IsDataLoss) {
  Status s = CheckRangeResponse(Response(206), 0, 99, 1000, kUrl);
  EXPECT_EQ(s.code(), Code::kDataLoss);
}

TEST(CheckRangeResponseTest, OkForTheWholeFileIsAccepted) {
  EXPECT_TRUE(CheckRangeResponse(Response(200), 0, 999, 1000, kUrl).ok());
  EXPECT_TRUE(CheckRangeResponse(Response(200), 0, 0, 1, kUrl).ok());
}

TEST(CheckRangeResponseTest, OkForAPartialRangeMeansRangeIsIgnored) {
  for (auto [first, last] : {std::pair<uint64_t, uint64_t>{0, 99}, {100, 999}, {1, 999}}) {
    Status s = CheckRangeResponse(Response(200), first, last, 1000, kUrl);
    EXPECT_EQ(s.code(), Code::kDataLoss) << first << "-" << last;
    EXPECT_TRUE(Mentions(s, "Range")) << s.ToString();
    EXPECT_TRUE(Mentions(s, "206")) << s.ToString();
  }
}

TEST(CheckRangeResponseTest, OtherSuccessStatusesAreDataLoss) {
  for (int status : {201, 203, 204}) {
    Status s = CheckRangeResponse(Response(status, "bytes 0-99/1000"), 0, 99, 1000, kUrl);
    EXPECT_EQ(s.code(), Code::kDataLoss) << status;
    EXPECT_TRUE(Mentions(s, std::to_string(status))) << s.ToString();
  }
}

TEST(MemoryBlockSinkTest, CollectsTheRangeAndRestartsOnBegin) {
  std::string out = "left over";
  MemoryBlockSink sink(out, 10, 19, 100, kUrl);
  ASSERT_TRUE(sink.Begin(Response(206, "bytes 10-19/100")).ok());
  EXPECT_EQ(out, "") << "Begin starts over (a retried attempt)";
  ASSERT_TRUE(sink.Write("01234").ok());
  ASSERT_TRUE(sink.Write("56789").ok());
  EXPECT_EQ(out, "0123456789");
  ASSERT_TRUE(sink.Begin(Response(206, "bytes 10-19/100")).ok());
  EXPECT_EQ(out, "");
}

TEST(MemoryBlockSinkTest, MoreBytesThanTheRangeAreDataLoss) {
  std::string out;
  MemoryBlockSink sink(out, 0, 3, 100, kUrl);
  ASSERT_TRUE(sink.Begin(Response(206, "bytes 0-3/100")).ok());
  ASSERT_TRUE(sink.Write("abc").ok());
  EXPECT_EQ(sink.Write("de").code(), Code::kDataLoss);
  EXPECT_EQ(out, "abc");
}

TEST(MemoryBlockSinkTest, BeginRejectsAWrongResponse) {
  std::string out;
  MemoryBlockSink sink(out, 0, 3, 100, kUrl);
  EXPECT_EQ(sink.Begin(Response(200)).code(), Code::kDataLoss);
  EXPECT_EQ(sink.Begin(Response(206, "bytes 0-3/99")).code(), Code::kDataLoss);
}

TEST(CacheBlockSinkTest, WritesIntoTheBlobAndChecksTheResponse) {
  hubfs::test::TempDir tmp;
  auto cache = cache::Cache::Open(tmp.Sub("cache"));
  ASSERT_TRUE(cache.ok()) << cache.error().ToString();
  const std::string data(cache::kBlockSize + 10, 'z');
  auto blob = (*cache)->OpenBlob(cache::BlobKeyForUrl(kUrl), {data.size(), std::nullopt, kUrl});
  ASSERT_TRUE(blob.ok());

  auto written = (*blob)->WriteBlock(1);
  ASSERT_TRUE(written.ok()) << written.error().ToString();
  cache::Blob::Writer& writer = *written;
  const uint64_t first = cache::kBlockSize, last = cache::kBlockSize + 9;
  CacheBlockSink sink(writer, first, last, data.size(), kUrl);
  const std::string range = "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                            std::to_string(data.size());
  EXPECT_EQ(sink.Begin(Response(200)).code(), Code::kDataLoss);
  ASSERT_TRUE(sink.Begin(Response(206, range)).ok());
  ASSERT_TRUE(sink.Write("0123456").ok());
  ASSERT_TRUE(sink.Write("789").ok());
  EXPECT_EQ(writer.written(), 10u);
  EXPECT_EQ(sink.Write("!").code(), Code::kDataLoss) << "past the block's end";
  ASSERT_TRUE(writer.Commit().ok());
  std::string buf(10, '\0');
  ASSERT_TRUE((*blob)->ReadBlock(1, buf.data()).ok());
  EXPECT_EQ(buf, "0123456789");
}

}  // namespace
}  // namespace hubfs::fs
