#include "app/prefetch_progress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace hubfs::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PrefetchFormat, BytesHaveAtMostThreeSignificantDigits) {
  EXPECT_EQ(FormatBytes(0), "0B");
  EXPECT_EQ(FormatBytes(1023), "1023B");
  EXPECT_EQ(FormatBytes(4096), "4.0KiB");
  EXPECT_EQ(FormatBytes(512 << 10), "512KiB");
  EXPECT_EQ(FormatBytes(26'500'000), "25.3MiB");
  EXPECT_EQ(FormatBytes(1ull << 30), "1.00GiB");
}

TEST(PrefetchFormat, Durations) {
  EXPECT_EQ(FormatSeconds(0.314), "0.31s");
  EXPECT_EQ(FormatSeconds(12.34), "12.3s");
  EXPECT_EQ(FormatSeconds(125), "2m05s");
  EXPECT_EQ(FormatSeconds(3720), "1h02m");
  EXPECT_EQ(FormatClock(5), "0:05");
  EXPECT_EQ(FormatClock(754), "12:34");
  EXPECT_EQ(FormatClock(3723), "1:02:03");
}

TEST(PrefetchFormat, LineShowsBytesSpeedEtaAndFile) {
  std::string line = ProgressLine(10 << 20, 20 << 20, 2 << 20, 3, 7, "onnx/a/b.onnx", 100);
  EXPECT_EQ(line, "[ 50%] 10.0MiB/20.0MiB  2.0MiB/s  ETA 0:05  3/7 files  onnx/a/b.onnx");
}

TEST(PrefetchFormat, LineWithoutSpeedHasNoEta) {
  EXPECT_THAT(ProgressLine(0, 100, 0, 0, 1, "", 100), Not(HasSubstr("ETA")));
  EXPECT_EQ(ProgressLine(0, 0, 0, 0, 0, "", 100), "[100%] 0B/0B  0/0 files");
}

TEST(PrefetchFormat, LongPathIsShortenedFromTheLeft) {
  std::string path = std::string(200, 'x') + "/model.onnx";
  std::string line = ProgressLine(1, 2, 1, 0, 1, path, 79);
  EXPECT_EQ(line.size(), 79u);
  EXPECT_THAT(line, HasSubstr("..."));
  EXPECT_TRUE(line.ends_with("/model.onnx"));
}

// The plain (not a terminal) output: one line per file, then the summary.
TEST(PrefetchProgressTest, PlainLinesPerFile) {
  char* text = nullptr;
  size_t size = 0;
  std::FILE* out = ::open_memstream(&text, &size);
  ASSERT_NE(out, nullptr);
  {
    PrefetchProgress progress(out, /*tty=*/false, 3, 3 << 20, 2);
    progress.Started(0, "m/a.onnx", 1 << 20);
    progress.Started(1, "m/b.onnx", 2 << 20);
    progress.Advanced(0, 1 << 20);
    progress.Tick();  // nothing on a pipe
    progress.Finished(0, FileOutcome::kFetched);
    progress.Finished(1, FileOutcome::kSkipped);
    progress.FailedOutsideSlot("m/c.onnx", "I/O error");
    EXPECT_EQ(progress.failed(), 1u);
    progress.Summary(false);
  }
  std::fclose(out);
  std::string s(text, size);
  std::free(text);
  EXPECT_THAT(s, ::testing::MatchesRegex("ok m/a.onnx 1.0MiB [0-9.]+s\n"
                                         "skipped m/b.onnx 2.0MiB \\(cached\\)\n"
                                         "failed m/c.onnx: I/O error\n"
                                         "prefetch: 3 files \\(3.0MiB\\): 1 fetched, 1 skipped "
                                         "\\(cached\\), 1 failed in [0-9.]+s\n"));
  EXPECT_THAT(s, Not(HasSubstr("\r")));
}

}  // namespace
}  // namespace hubfs::app
