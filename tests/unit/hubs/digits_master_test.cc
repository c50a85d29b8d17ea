#include "hubfs/hubs/digits/digits_master.h"
#include "hubfs/hubs/digits/digits_model_info.h"
#include "hubfs/hubs/digits/digits_model_names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hubfs::hubs::digits {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(DigitsMasterJsonTest, ReadsChildrenAndMessage) {
  auto master = ParseMasterJson(
      R"({"msg": "Luke's Model Store", "children": ["lenet", "alexnet", "googlenet"]})");
  ASSERT_TRUE(master.ok()) << master.error().ToString();
  EXPECT_THAT(master->children, ElementsAre("lenet", "alexnet", "googlenet"));
  EXPECT_EQ(master->msg, "Luke's Model Store");
  EXPECT_THAT(master->skipped, IsEmpty());
}

TEST(DigitsMasterJsonTest, MessageIsOptional) {
  auto master = ParseMasterJson(R"({"children": []})");
  ASSERT_TRUE(master.ok());
  EXPECT_THAT(master->children, IsEmpty());
  EXPECT_EQ(master->msg, "");
}

TEST(DigitsMasterJsonTest, SingleQuotedExampleOfOldDocsIsAnError) {
  auto master = ParseMasterJson("{'msg': 'Luke', 'children': ['lenet']}");
  ASSERT_FALSE(master.ok());
  EXPECT_TRUE(master.error().IsDataLoss());
  EXPECT_THAT(master.error().message(), HasSubstr("not valid JSON"));
}

TEST(DigitsMasterJsonTest, WrongShapesAreErrorsWithAReason) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : std::vector<Case>{
           {"", "not valid JSON"},
           {"[\"lenet\"]", "not a JSON object"},
           {R"({"msg": "x"})", "no 'children'"},
           {R"({"children": "lenet"})", "'children' is not an array"},
           {R"({"children": {"a": 1}})", "'children' is not an array"},
           {R"({"children": [], "msg": 3})", "'msg' is not a string"},
       }) {
    auto master = ParseMasterJson(c.text);
    ASSERT_FALSE(master.ok()) << c.text;
    EXPECT_THAT(master.error().message(), HasSubstr(c.why)) << c.text;
  }
}

TEST(DigitsMasterJsonTest, NonStringChildrenAreSkippedNotFatal) {
  auto master = ParseMasterJson(R"({"children": ["lenet", 7, null, ["x"], "alexnet"]})");
  ASSERT_TRUE(master.ok());
  EXPECT_THAT(master->children, ElementsAre("lenet", "alexnet"));
  ASSERT_THAT(master->skipped, SizeIs(3));
  EXPECT_THAT(master->skipped[0], HasSubstr("child 1: not a string but number"));
}

TEST(DigitsModelNamesTest, HostileChildrenAndDuplicatesAreSkipped) {
  const std::vector<std::string> children = {
      "lenet", "..", ".", "", "a/b", std::string("nul\0x", 5), std::string(256, 'x'),
      "lenet", "tab\tname", "alexnet", std::string(255, 'y')};
  ModelNames names = SelectModelNames(children, 100);
  EXPECT_THAT(names.names, ElementsAre("lenet", "alexnet", std::string(255, 'y')));
  ASSERT_THAT(names.skipped, SizeIs(8));
  EXPECT_THAT(names.skipped[0], HasSubstr("'..': not a safe folder name"));
  EXPECT_THAT(names.skipped[4], HasSubstr("'nul?x'"));  // control characters never reach the log
  EXPECT_THAT(names.skipped[6], HasSubstr("'lenet': listed twice"));
}

TEST(DigitsModelNamesTest, OneTrailingSlashIsIgnored) {
  ModelNames names = SelectModelNames({"lenet/", "lenet", "a//", "/"}, 100);
  EXPECT_THAT(names.names, ElementsAre("lenet"));
  EXPECT_THAT(names.skipped, SizeIs(3));
}

TEST(DigitsModelNamesTest, KeepsAtMostTheLimit) {
  ModelNames names = SelectModelNames({"a", "b", "c"}, 2);
  EXPECT_THAT(names.names, ElementsAre("a", "b"));
  ASSERT_THAT(names.skipped, SizeIs(1));
  EXPECT_THAT(names.skipped[0], HasSubstr("more than 2 models"));
}

TEST(DigitsInfoJsonTest, ReadsEveryFileKeyInKeyOrder) {
  auto info = ParseInfoJson(R"({
    "name": "LeNet", "framework": "caffe", "image dimensions": [28, 28, 1],
    "solver file": "solver.prototxt", "train_val file": "train_val.prototxt",
    "deploy file": "deploy.prototxt", "mean file": "mean.binaryproto",
    "python layer file": "digits_python_layers.py", "labels file": "labels.txt",
    "model file": "original.prototxt", "snapshot file": "snapshot_iter_100.caffemodel"})");
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_THAT(info->files,
              ElementsAre("snapshot_iter_100.caffemodel", "original.prototxt", "labels.txt",
                          "digits_python_layers.py", "mean.binaryproto", "deploy.prototxt",
                          "train_val.prototxt", "solver.prototxt"));
  EXPECT_THAT(info->skipped, IsEmpty());
}

TEST(DigitsInfoJsonTest, LegacyNetworkFileIsAModelFile) {
  auto info = ParseInfoJson(
      R"({"snapshot file": "snap.caffemodel", "network file": "network.prototxt"})");
  ASSERT_TRUE(info.ok());
  EXPECT_THAT(info->files, ElementsAre("snap.caffemodel", "network.prototxt"));
}

TEST(DigitsInfoJsonTest, UnusableValuesAreSkippedWithAReason) {
  auto info = ParseInfoJson(R"({
    "snapshot file": "no snapshots", "model file": "../../etc/passwd",
    "labels file": 3, "mean file": "/abs/mean.binaryproto", "deploy file": "..",
    "solver file": "deploy.prototxt", "train_val file": "deploy.prototxt",
    "python layer file": null, "weights file": "ignored.bin"})");
  ASSERT_TRUE(info.ok());
  // The same name under two keys is one file; unknown keys name nothing.
  EXPECT_THAT(info->files, ElementsAre("deploy.prototxt"));
  ASSERT_THAT(info->skipped, SizeIs(5));
  EXPECT_THAT(info->skipped[0], HasSubstr("no snapshots"));
  EXPECT_THAT(info->skipped[1], HasSubstr("'model file' '../../etc/passwd' is not a plain file name"));
  EXPECT_THAT(info->skipped[2], HasSubstr("'labels file' is not a string but number"));
}

TEST(DigitsInfoJsonTest, NotAnObjectIsAnError) {
  EXPECT_FALSE(ParseInfoJson("[]").ok());
  EXPECT_FALSE(ParseInfoJson("{'name': 'x'}").ok());
}

TEST(DigitsAuxJsonTest, LicenseMeansLicenseTxtAndLogoNamesItsFile) {
  auto aux = ParseAuxJson(
      R"({"license": "3-clause BSD license", "logo": "logo.png", "dataset": "MNIST"})");
  ASSERT_TRUE(aux.ok());
  EXPECT_THAT(aux->files, ElementsAre("license.txt", "logo.png"));
}

TEST(DigitsAuxJsonTest, NoLicenseNoLogo) {
  auto aux = ParseAuxJson(R"({"dataset": "MNIST", "license": "", "affiliate": "x"})");
  ASSERT_TRUE(aux.ok());
  EXPECT_THAT(aux->files, IsEmpty());
  auto hostile = ParseAuxJson(R"({"license": true, "logo": "../logo.png"})");
  ASSERT_TRUE(hostile.ok());
  EXPECT_THAT(hostile->files, IsEmpty());
  EXPECT_THAT(hostile->skipped, SizeIs(2));
}

}  // namespace
}  // namespace hubfs::hubs::digits
