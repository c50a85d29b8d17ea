#include "hubfs/archive/archive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "archive/raw_entry.h"
#include "testing/archive_writer.h"

namespace hubfs::archive {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using hubfs::testing::ArchiveItem;
using hubfs::testing::WriteArchive;

class StringSource : public Source {
 public:
  explicit StringSource(std::string bytes) : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_.size(); }
  Result<size_t> ReadAt(uint64_t offset, char* out, size_t length) override {
    if (fail_) return Status::Unavailable("the hub is down");
    if (offset >= bytes_.size()) return size_t{0};
    size_t n = std::min<size_t>(length, bytes_.size() - offset);
    std::memcpy(out, bytes_.data() + offset, n);
    return n;
  }
  const std::string& bytes() const { return bytes_; }
  bool fail_ = false;

 private:
  std::string bytes_;
};

std::string Text(size_t n, char seed) {
  std::string s(n, ' ');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + (i * 7 + i / 13) % 23);
  return s;
}

std::string Extract(Source& source, const Member& m) {
  std::string out;
  Status st = ExtractMember(source, m, [&](std::string_view d) {
    out.append(d);
    return Status();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::string Joined(const Member& m) {
  std::string s;
  for (const auto& p : m.path) s += (s.empty() ? "" : "/") + p;
  return s;
}

TEST(ArchiveTest, ZipStoredMembersAreServedByOffsetAndDeflatedOnesUnpack) {
  const std::string params = Text(300000, 'a');
  const std::string symbol = Text(5000, 'k');
  StringSource src(WriteArchive("zip", {{"MANIFEST.json", "{\"Model\": {}}", ArchiveItem::kFile, "", false},
                                        {"resnet-18-0000.params", params, ArchiveItem::kFile, "", true},
                                        {"resnet-18-symbol.json", symbol, ArchiveItem::kFile, "", false}}));
  auto index = ReadIndex(src, Limits{});
  ASSERT_TRUE(index.ok()) << index.error().ToString();
  EXPECT_EQ(index->format, "zip");
  EXPECT_TRUE(index->refused.empty());
  ASSERT_EQ(index->members.size(), 3u);
  const Member& stored = index->members[1];
  EXPECT_EQ(Joined(stored), "resnet-18-0000.params");
  EXPECT_EQ(stored.size, params.size());
  ASSERT_TRUE(stored.stored_offset.has_value());
  EXPECT_EQ(src.bytes().substr(*stored.stored_offset, stored.size), params);
  EXPECT_FALSE(index->members[2].stored_offset.has_value());
  EXPECT_EQ(Extract(src, index->members[2]), symbol);
  EXPECT_EQ(Extract(src, stored), params);
  EXPECT_EQ(Extract(src, index->members[0]), "{\"Model\": {}}");
}

TEST(ArchiveTest, TarGzOneTopFolderIsStripped) {
  const std::string model = Text(200000, 'm');
  StringSource src(WriteArchive("tar.gz", {{"mnist-8/", "", ArchiveItem::kDir},
                                           {"mnist-8/model.onnx", model},
                                           {"mnist-8/test_data_set_0/", "", ArchiveItem::kDir},
                                           {"mnist-8/test_data_set_0/input_0.pb", "in"},
                                           {"mnist-8/test_data_set_0/output_0.pb", "out"}}));
  auto index = ReadIndex(src, Limits{});
  ASSERT_TRUE(index.ok()) << index.error().ToString();
  EXPECT_EQ(index->format, "tar.gz");
  std::vector<std::string> names;
  for (const auto& m : index->members) names.push_back(Joined(m));
  EXPECT_THAT(names, ElementsAre("model.onnx", "test_data_set_0", "test_data_set_0/input_0.pb",
                                 "test_data_set_0/output_0.pb"));
  EXPECT_FALSE(index->members[0].stored_offset.has_value());
  EXPECT_EQ(Extract(src, index->members[0]), model);
  EXPECT_EQ(Extract(src, index->members[3]), "out");
}

TEST(ArchiveTest, TarLinksInsideAreKeptAndEscapesSkipped) {
  StringSource src(WriteArchive("tar", {{"a.txt", "alpha"},
                                        {"sub/b.txt", "beta"},
                                        {"sub/up", "", ArchiveItem::kSymlink, "../a.txt"},
                                        {"sub/out", "", ArchiveItem::kSymlink, "../../etc/passwd"},
                                        {"abs", "", ArchiveItem::kSymlink, "/etc/passwd"},
                                        {"hard", "", ArchiveItem::kHardlink, "a.txt"}}));
  auto index = ReadIndex(src, Limits{});
  ASSERT_TRUE(index.ok()) << index.error().ToString();
  std::vector<std::string> names;
  for (const auto& m : index->members) names.push_back(Joined(m));
  EXPECT_THAT(names, ElementsAre("a.txt", "sub/b.txt", "sub/up", "hard"));
  EXPECT_EQ(index->members[2].link_target, "../a.txt");
  EXPECT_EQ(index->members[3].kind, MemberKind::kFile);
  EXPECT_EQ(Extract(src, index->members[3]), "alpha");
  ASSERT_EQ(index->skipped.size(), 2u);
  EXPECT_THAT(index->skipped[0], HasSubstr("leaves the folder"));
}

TEST(ArchiveTest, NotAnArchiveIsDataLossAndSourceErrorsPassThrough) {
  StringSource junk(std::string(4096, 'x'));
  auto bad = ReadIndex(junk, Limits{});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(bad.error().IsDataLoss()) << bad.error().ToString();

  StringSource down(WriteArchive("zip", {{"a", "b"}}));
  down.fail_ = true;
  auto failed = ReadIndex(down, Limits{});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), Code::kUnavailable);
}

TEST(ArchiveTest, BombsAreRefusedByRatioTotalAndCount) {
  // 8 MiB of one byte deflates to a few KiB: past a ratio of 100.
  StringSource src(WriteArchive("zip", {{"zeros", std::string(8 << 20, '\0')}}));
  Limits limits;
  limits.max_ratio = 100;
  auto index = ReadIndex(src, limits);
  ASSERT_TRUE(index.ok());
  EXPECT_THAT(index->refused, HasSubstr("times its size"));
  EXPECT_TRUE(index->members.empty());

  limits = Limits{};
  limits.max_total_bytes = 1 << 20;
  index = ReadIndex(src, limits);
  ASSERT_TRUE(index.ok());
  EXPECT_THAT(index->refused, HasSubstr("more than the limit"));

  limits = Limits{};
  limits.max_members = 2;
  StringSource many(WriteArchive("tar.gz", {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}));
  index = ReadIndex(many, limits);
  ASSERT_TRUE(index.ok());
  EXPECT_THAT(index->refused, HasSubstr("more than 2 members"));
}

TEST(ArchiveTest, ExtractRefusesAMemberLargerThanDeclared) {
  StringSource src(WriteArchive("zip", {{"f", Text(100000, 'q')}}));
  auto index = ReadIndex(src, Limits{});
  ASSERT_TRUE(index.ok());
  Member lying = index->members[0];
  lying.size = 1000;
  Status st = ExtractMember(src, lying, [](std::string_view) { return Status(); });
  EXPECT_TRUE(st.IsDataLoss()) << st.ToString();
}

RawEntry Raw(std::string name, RawType type = RawType::kFile, uint64_t size = 1, std::string link = "") {
  static uint32_t ordinal = 0;
  RawEntry e;
  e.name = std::move(name);
  e.type = type;
  e.size = size;
  e.link = std::move(link);
  e.ordinal = ordinal++;
  return e;
}

TEST(ArchiveContainTest, HostileNamesAreSkippedWithReasons) {
  Index index = Contain({Raw("/etc/passwd"), Raw("../evil"), Raw("a/../../evil"), Raw("ok"), Raw("ok"),
                         Raw("ok/below"), Raw("bad\x01name"), Raw("dev", RawType::kOther),
                         Raw("./x//y"), Raw("lnk", RawType::kSymlink, 0, "ok"),
                         Raw("via", RawType::kSymlink, 0, "lnk/../.."), Raw("in", RawType::kSymlink, 0, "x/y")},
                        1000, Limits{});
  std::vector<std::string> names;
  for (const auto& m : index.members) names.push_back(Joined(m));
  EXPECT_THAT(names, ElementsAre("ok", "x/y", "lnk", "in"));
  ASSERT_EQ(index.skipped.size(), 8u);
  EXPECT_THAT(index.skipped[0], HasSubstr("absolute path"));
  EXPECT_THAT(index.skipped[1], HasSubstr("'..'"));
  EXPECT_THAT(index.skipped[2], HasSubstr("'..'"));
  EXPECT_THAT(index.skipped[3], HasSubstr("cannot be a file name"));
  EXPECT_THAT(index.skipped[4], HasSubstr("not a file, folder or link"));
  EXPECT_THAT(index.skipped[5], HasSubstr("appears twice"));
  EXPECT_THAT(index.skipped[6], HasSubstr("not a folder"));
  EXPECT_THAT(index.skipped[7], HasSubstr("leaves the folder"));
}

TEST(ArchiveContainTest, TopFolderIsKeptWhenSomethingLiesBesideIt) {
  Index index = Contain({Raw("top/", RawType::kDirectory, 0), Raw("top/a"), Raw("readme")}, 100, Limits{});
  std::vector<std::string> names;
  for (const auto& m : index.members) names.push_back(Joined(m));
  EXPECT_THAT(names, ElementsAre("top", "top/a", "readme"));
}

TEST(ArchiveCodecTest, RoundTripsAndRejectsUnsafeNames) {
  Index index;
  index.format = "zip";
  index.archive_size = 1234;
  index.skipped = {"../x: '..' in the path"};
  Member f;
  f.path = {"d", "f.bin"};
  f.size = 99;
  f.ordinal = 3;
  f.stored_offset = 77;
  Member l;
  l.path = {"l"};
  l.kind = MemberKind::kSymlink;
  l.link_target = "d/f.bin";
  index.members = {f, l};
  auto back = DecodeIndex(EncodeIndex(index));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->archive_size, 1234u);
  ASSERT_EQ(back->members.size(), 2u);
  EXPECT_EQ(back->members[0].stored_offset, std::optional<uint64_t>(77));
  EXPECT_EQ(back->members[0].size, 99u);
  EXPECT_EQ(back->members[1].link_target, "d/f.bin");
  EXPECT_EQ(back->skipped, index.skipped);

  index.members[0].path = {"..", "x"};
  EXPECT_FALSE(DecodeIndex(EncodeIndex(index)).ok());
  EXPECT_FALSE(DecodeIndex("{not json").ok());
}

TEST(ArchiveNamesTest, SuffixesGiveTheFolderName) {
  std::string stem;
  EXPECT_TRUE(IsArchiveName("mnist-8.tar.gz", &stem));
  EXPECT_EQ(stem, "mnist-8");
  EXPECT_TRUE(IsArchiveName("squeezenet_v1.1.MAR", &stem));
  EXPECT_EQ(stem, "squeezenet_v1.1");
  EXPECT_TRUE(IsArchiveName("resnet-18.model", &stem));
  EXPECT_EQ(stem, "resnet-18");
  EXPECT_FALSE(IsArchiveName("model.onnx", &stem));
  EXPECT_FALSE(IsArchiveName(".zip", &stem));
}

}  // namespace
}  // namespace hubfs::archive
