#include "app/path_info.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace hubfs::app {
namespace {

using ::testing::HasSubstr;

FileInfo Sample() {
  FileInfo info;
  info.path = "m/onnx/a.onnx";
  info.mountpoint = "/m";
  info.in_mount = "onnx/a.onnx";
  info.remote = true;
  info.size = 2048;
  info.source = "http://127.0.0.1/a.onnx";
  info.sha256 = std::string(64, 'a');
  info.sha256_origin = "published";
  info.cached_bytes = 2048;
  info.state = "verified";
  info.cache_key = "sha256:" + std::string(64, 'a');
  info.cache_dir = "/c";
  return info;
}

std::string Text(const FileInfo& info) {
  std::ostringstream out;
  PrintFileInfo(info, out);
  return out.str();
}

TEST(PathInfo, PublishedFile) {
  const std::string text = Text(Sample());
  EXPECT_THAT(text, HasSubstr("onnx/a.onnx (in the hubfs mount /m)\n"));
  EXPECT_THAT(text, HasSubstr("  source       http://127.0.0.1/a.onnx\n"));
  EXPECT_THAT(text, HasSubstr("  size         2.0 KiB (2048 bytes)\n"));
  EXPECT_THAT(text, HasSubstr("  sha256       " + std::string(64, 'a') + " (published by the hub)\n"));
  EXPECT_THAT(text, HasSubstr("  cached       2.0 KiB of 2.0 KiB (100%), verified\n"));
  EXPECT_THAT(text, HasSubstr("  pinned       no\n"));
  EXPECT_THAT(text, HasSubstr("  cache key    sha256:"));
  EXPECT_THAT(text, HasSubstr("  cache dir    /c\n"));
}

TEST(PathInfo, PinnedOnFirstUseAndNotYet) {
  FileInfo info = Sample();
  info.sha256_origin = "pinned";
  info.pinned_at = 0;
  EXPECT_THAT(Text(info), HasSubstr("(pinned on first use)\n"));
  info.pinned_at = 86400;
  EXPECT_THAT(Text(info), HasSubstr("(pinned on first use, 1970-01-02T00:00:00Z)\n"));
  info.sha256.clear();
  info.sha256_origin = "none";
  info.size = 0;
  info.cached_bytes = 0;
  info.state = "partial";
  info.pinned = true;
  const std::string text = Text(info);
  EXPECT_THAT(text, HasSubstr("sha256       none yet"));
  EXPECT_THAT(text, HasSubstr("size         not known yet"));
  EXPECT_THAT(text, HasSubstr("cached       0 B of ?, not cached\n"));
  EXPECT_THAT(text, HasSubstr("pinned       yes"));
  const nlohmann::json j = FileInfoJson(info);
  EXPECT_TRUE(j["sha256"].is_null());
  EXPECT_EQ(j["sha256_origin"], "none");
  EXPECT_EQ(j["kind"], "file");
}

TEST(PathInfo, GeneratedFileAndFolder) {
  FileInfo generated;
  generated.in_mount = "onnx/info.json";
  generated.mountpoint = "/m";
  generated.size = 10;
  EXPECT_THAT(Text(generated), HasSubstr("generated    by hubfs"));
  EXPECT_EQ(FileInfoJson(generated)["kind"], "generated");

  FolderInfo folder;
  folder.in_mount = "";
  folder.mountpoint = "/m";
  folder.files = 4;
  folder.folders = 2;
  folder.generated = 1;
  folder.total_bytes = 4096;
  folder.cached_bytes = 1024;
  folder.verified_files = 1;
  std::ostringstream out;
  PrintFolderInfo(folder, out);
  EXPECT_THAT(out.str(), HasSubstr(". (in the hubfs mount /m)\n"));
  EXPECT_THAT(out.str(), HasSubstr("files        4 with remote content, 2 folders, 1 generated files and links\n"));
  EXPECT_THAT(out.str(), HasSubstr("size         4.0 KiB\n"));
  EXPECT_THAT(out.str(), HasSubstr("cached       1.0 KiB (25%); 1 of 4 files cached whole and verified\n"));
  EXPECT_EQ(FolderInfoJson(folder)["cached_bytes"], 1024);
}

}  // namespace
}  // namespace hubfs::app
