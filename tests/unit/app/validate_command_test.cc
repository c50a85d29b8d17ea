#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "hubfs/app/commands.h"
#include "testing/temp_dir.h"
#include "unit/hubs/mindspore_test_markdown.h"

namespace hubfs::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using hubs::mindspore::test::GoodMarkdown;
using hubs::mindspore::test::Replace;

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

struct ValidateRun {
  int code;
  std::string out;
  std::string err;
};

ValidateRun Validate(const std::string& path) {
  std::ostringstream out, err;
  int code = RunValidate(path, out, err);
  return {code, out.str(), err.str()};
}

TEST(ValidateCommandTest, OneGoodFilePasses) {
  test::TempDir dir;
  Write(dir.Sub("toy.md"), GoodMarkdown());
  ValidateRun run = Validate(dir.Sub("toy.md"));
  EXPECT_EQ(run.code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("1 file checked: 1 passed, 0 failed"));
}

TEST(ValidateCommandTest, FolderReportsPathLineMessageAndFails) {
  test::TempDir dir;
  Write(dir.Sub("assets/mindspore/1.10/good.md"), GoodMarkdown());
  Write(dir.Sub("assets/mindspore/1.10/bad.md"), Replace(GoodMarkdown(), "fine-tunable: True", "fine-tunable: 1"));
  Write(dir.Sub("assets/mindspore/2.5/rule.md"), GoodMarkdown() + "---\n");
  Write(dir.Sub("assets/README.md"), "# not an asset\n");
  Write(dir.Sub("assets/README_CN.md"), "# not an asset\n");
  Write(dir.Sub("assets/notes.txt"), "ignored\n");
  ValidateRun run = Validate(dir.Sub("assets"));
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.out, HasSubstr(dir.Sub("assets/mindspore/1.10/bad.md") + ":7: fine-tunable must be a YAML bool"));
  EXPECT_THAT(run.out, HasSubstr(dir.Sub("assets/mindspore/2.5/rule.md") + ":29: unparsable"));
  EXPECT_THAT(run.out, Not(HasSubstr("README")));
  EXPECT_THAT(run.out, HasSubstr("3 files checked: 1 passed, 2 failed"));
}

TEST(ValidateCommandTest, ChineseTwinIsCheckedThroughItsEnglishFile) {
  test::TempDir dir;
  Write(dir.Sub("a/toy.md"), Replace(GoodMarkdown(), "license: Apache2.0\n", ""));
  Write(dir.Sub("a/toy_cn.md"), "# 中文\n---\n模型名称：toy\n---\n");
  Write(dir.Sub("a/lonely_cn.md"), "# 中文\n");
  ValidateRun run = Validate(dir.Sub("a"));
  EXPECT_EQ(run.code, 1);
  EXPECT_THAT(run.out, HasSubstr(dir.Sub("a/toy.md") + ": field license is required (checked for toy_cn.md)"));
  EXPECT_THAT(run.out, HasSubstr(dir.Sub("a/lonely_cn.md") + ": Chinese twin without its English file lonely.md"));
  EXPECT_THAT(run.out, HasSubstr("3 files checked: 0 passed, 3 failed"));
}

TEST(ValidateCommandTest, MissingPathIsAUsageError) {
  test::TempDir dir;
  ValidateRun run = Validate(dir.Sub("nothing-here"));
  EXPECT_EQ(run.code, 2);
  EXPECT_THAT(run.err, HasSubstr("no such file or folder"));
  EXPECT_EQ(run.out, "");
}

TEST(ValidateCommandTest, EmptyFolderPasses) {
  test::TempDir dir;
  ValidateRun run = Validate(dir.path());
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, HasSubstr("0 files checked"));
}

}  // namespace
}  // namespace hubfs::app
