// hubfs stage's pieces that need no mount: the copy (stage_copy.h), the view name candidates
// (stage_plan.h) and where the staging folder comes from (config.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/xattr.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "app/stage_copy.h"
#include "app/stage_plan.h"
#include "hubfs/app/config.h"
#include "hubfs/core/sha256.h"
#include "testing/temp_dir.h"

namespace hubfs::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

void Write(const std::string& path, const std::string& body) {
  std::ofstream(path, std::ios::binary) << body;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class StageCopyTest : public ::testing::Test {
 protected:
  StageCopyRequest Request(const std::string& sha) {
    StageCopyRequest r;
    r.source = source_;
    r.dest = dir_.Sub("staged/onnx/model.onnx");
    r.temp = dir_.Sub("staged/onnx/.hubfs-stage.1.0");
    r.sha256 = [sha] { return sha; };
    r.progress = [this](uint64_t bytes) { progress_ = bytes; };
    return r;
  }
  std::vector<std::string> Names(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  test::TempDir dir_;
  std::string source_ = dir_.Sub("source.onnx");
  std::string body_ = std::string(3 << 20, 'x') + "the end";
  std::string sha_ = ToHex(Sha256::Of(body_));
  uint64_t progress_ = 0;
};

TEST_F(StageCopyTest, CopiesIntoANewFolderKeepingTheTimeThenFindsItUpToDate) {
  Write(source_, body_);
  struct timespec times[2] = {{0, UTIME_OMIT}, {1'600'000'000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, source_.c_str(), times, 0), 0);
  auto copied = StageCopy(Request(sha_));
  ASSERT_TRUE(copied.ok()) << copied.error().ToString();
  EXPECT_EQ(*copied, StageOutcome::kCopied);
  const std::string dest = dir_.Sub("staged/onnx/model.onnx");
  EXPECT_EQ(Read(dest), body_);
  EXPECT_EQ(progress_, body_.size());
  EXPECT_THAT(Names(dir_.Sub("staged/onnx")), ElementsAre("model.onnx"));  // no temporary file left
  struct stat st {};
  ASSERT_EQ(::stat(dest.c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'600'000'000);
  EXPECT_EQ(StagedSha256(dest, st.st_mtim), sha_);

  progress_ = 0;
  auto again = StageCopy(Request(sha_));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, StageOutcome::kUpToDate);
  EXPECT_EQ(progress_, 0u);  // not read
}

TEST_F(StageCopyTest, AChangedCopyIsReplaced) {
  Write(source_, body_);
  ASSERT_TRUE(StageCopy(Request(sha_)).ok());
  const std::string dest = dir_.Sub("staged/onnx/model.onnx");
  // Same size, other bytes, written after: its mtime no longer vouches for the attribute.
  std::string changed = body_;
  changed[0] = 'y';
  Write(dest, changed);
  EXPECT_NE(StagedSha256(dest, {0, 0}), sha_);
  auto again = StageCopy(Request(sha_));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, StageOutcome::kCopied);
  EXPECT_EQ(Read(dest), body_);
}

TEST_F(StageCopyTest, WithoutAKnownSha256ItCopiesAgain) {
  Write(source_, body_);
  ASSERT_TRUE(StageCopy(Request("")).ok());
  auto again = StageCopy(Request(""));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, StageOutcome::kCopied);
}

TEST_F(StageCopyTest, AMismatchLeavesNothingBehind) {
  Write(source_, body_);
  auto copied = StageCopy(Request(std::string(64, '0')));
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.error().code(), Code::kDataLoss);
  EXPECT_THAT(copied.error().message(), HasSubstr("not the file's"));
  EXPECT_THAT(Names(dir_.Sub("staged/onnx")), IsEmpty());
}

TEST_F(StageCopyTest, AStopLeavesNothingBehindAndAnOldCopyIntact) {
  Write(source_, body_);
  std::filesystem::create_directories(dir_.Sub("staged/onnx"));
  Write(dir_.Sub("staged/onnx/model.onnx"), "an older copy");
  std::atomic<bool> stop{false};
  StageCopyRequest r = Request(sha_);
  r.stop = &stop;
  r.progress = [&](uint64_t) { stop = true; };  // after the first 1 MiB
  auto copied = StageCopy(r);
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.error().code(), Code::kCancelled);
  EXPECT_THAT(Names(dir_.Sub("staged/onnx")), ElementsAre("model.onnx"));
  EXPECT_EQ(Read(dir_.Sub("staged/onnx/model.onnx")), "an older copy");
}

TEST_F(StageCopyTest, RefusesToReplaceAFolderAndReportsAMissingSource) {
  Write(source_, body_);
  std::filesystem::create_directories(dir_.Sub("staged/onnx/model.onnx"));
  auto refused = StageCopy(Request(sha_));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
  EXPECT_THAT(refused.error().message(), HasSubstr("is not a regular file"));

  StageCopyRequest missing = Request(sha_);
  missing.source = dir_.Sub("nothing.onnx");
  auto failed = StageCopy(missing);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().message(), HasSubstr("No such file"));
}

TEST(StagePlanTest, ViewNameCandidatesAreTheNameThenItsRenamedForms) {
  EXPECT_THAT(ViewNameCandidates("deploy.prototxt", {"deploy.prototxt", "deploy~alexnet.prototxt", "deploy.txt",
                                                      "deploy~lenet~digits~2.prototxt", "deployer.prototxt",
                                                      "deploy~x.caffemodel", "original.prototxt"}),
              ElementsAre("deploy.prototxt", "deploy~alexnet.prototxt", "deploy~lenet~digits~2.prototxt"));
  EXPECT_THAT(ViewNameCandidates("data.tar.gz", {"data~a.tar.gz", "data~b.gz"}), ElementsAre("data.tar.gz", "data~a.tar.gz"));
  EXPECT_THAT(ViewNameCandidates("squeezenet", {"squeezenet~m", "squeezenet.mar"}), ElementsAre("squeezenet", "squeezenet~m"));
}

TEST(StagingConfigTest, FileThenModelhubPathThenHome) {
  std::map<std::string, std::string> env = {{"HOME", "/home/u"}};
  auto lookup = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  Config config;
  ApplyStagingEnvironment(lookup, &config);
  EXPECT_EQ(config.staging_dir, "/home/u/.modelhub");
  env["MODELHUB_PATH"] = "/data/zoo";
  config.staging_dir.clear();
  ApplyStagingEnvironment(lookup, &config);
  EXPECT_EQ(config.staging_dir, "/data/zoo");
  auto parsed = ParseConfig("staging_dir = \"/srv/stage\"\nby_framework = false\n", "t.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->staging_dir, "/srv/stage");
  EXPECT_FALSE(parsed->by_framework);
  ApplyStagingEnvironment(lookup, &*parsed);
  EXPECT_EQ(parsed->staging_dir, "/srv/stage");  // the file wins over the environment
  EXPECT_THAT(DescribeConfig(*parsed), HasSubstr("by_framework = false\nstaging_dir = \"/srv/stage\"\n"));
  EXPECT_TRUE(ParseConfig("", "t.toml")->by_framework);
}

TEST(StagingConfigTest, BadValuesAndTheReservedHubName) {
  auto relative = ParseConfig("staging_dir = \"stage\"\n", "t.toml");
  ASSERT_FALSE(relative.ok());
  EXPECT_THAT(relative.error().message(), HasSubstr("'staging_dir' must be an absolute path"));
  auto not_bool = ParseConfig("by_framework = \"yes\"\n", "t.toml");
  ASSERT_FALSE(not_bool.ok());
  EXPECT_THAT(not_bool.error().message(), HasSubstr("'by_framework' must be true or false"));
  auto reserved = ParseConfig("[[hub]]\ntype = \"onnx\"\nname = \"by-framework\"\nrepo = \"o/m\"\n", "t.toml");
  ASSERT_FALSE(reserved.ok());
  EXPECT_THAT(reserved.error().message(), HasSubstr("reserved for the view of models by framework"));
}

}  // namespace
}  // namespace hubfs::app
