// What keeps a shared (multi-user) mount safe on disk: a configuration that holds a token must
// be private to its owner (config_secrets.h), and the cache folder must be the daemon's own and
// private (cache_dir.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "app/cache_dir.h"
#include "app/config_secrets.h"
#include "hubfs/app/config.h"
#include "testing/temp_dir.h"

namespace hubfs::app {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPath[] = "/etc/hubfs/config.toml";

constexpr char kHubWithToken[] =
    "cache_dir = \"/var/cache/hubfs\"\n"
    "[[hub]]\n"
    "type = \"hf\"\n"
    "name = \"hf\"\n"
    "token = \"hf_secret\"\n";

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(ConfigSecretsTest, TokenInAWorldReadableFileIsRefusedWithTheFix) {
  Status s = CheckSecretsArePrivate(kPath, S_IFREG | 0644, kHubWithToken);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "/etc/hubfs/config.toml:5: holds a token, but the file is readable by every user (mode "
            "0644); make it private to the daemon's user: chmod 600 /etc/hubfs/config.toml");
}

TEST(ConfigSecretsTest, GroupReadableIsRefusedToo) {
  Status s = CheckSecretsArePrivate(kPath, S_IFREG | 0640, kHubWithToken);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), AllOf(HasSubstr("readable by its group (mode 0640)"), HasSubstr("chmod 600")));
  EXPECT_FALSE(CheckSecretsArePrivate(kPath, S_IFREG | 0604, kHubWithToken).ok());
  EXPECT_FALSE(CheckSecretsArePrivate(kPath, S_IFREG | 0444, kHubWithToken).ok());
}

TEST(ConfigSecretsTest, OwnerOnlyModesPass) {
  for (mode_t mode : {0600, 0400, 0700, 0200, 0622}) {
    EXPECT_TRUE(CheckSecretsArePrivate(kPath, S_IFREG | mode, kHubWithToken).ok()) << std::oct << mode;
  }
}

TEST(ConfigSecretsTest, ReadableFilesWithoutATokenPass) {
  const std::string text =
      "cache_dir = \"/var/cache/hubfs\"\n"
      "[[hub]]\ntype = \"onnx\"\nrepo = \"onnx/models:main\"\n"
      "# token = \"a comment is not a key\"\n"
      "[[hub]]\ntype = \"mindspore\"\ngit_url = \"https://token@example.com/hub.git\"\n";
  EXPECT_TRUE(CheckSecretsArePrivate(kPath, S_IFREG | 0644, text).ok());
  // Other keys that merely contain the word are not secrets.
  EXPECT_TRUE(CheckSecretsArePrivate(kPath, S_IFREG | 0644, "[[hub]]\ntokens = 3\nmy_token = \"x\"\n").ok());
}

TEST(ConfigSecretsTest, TokenAnywhereCounts) {
  // Top level, a nested table, a table in an array, an inline table.
  EXPECT_FALSE(CheckSecretsArePrivate(kPath, S_IFREG | 0644, "token = \"x\"\n").ok());
  EXPECT_FALSE(CheckSecretsArePrivate(kPath, S_IFREG | 0644, "[auth]\ntoken = \"x\"\n").ok());
  EXPECT_FALSE(CheckSecretsArePrivate(kPath, S_IFREG | 0644,
                                      "[[hub]]\ntype = \"onnx\"\n[[hub]]\ntype = \"hf\"\n[hub.auth]\ntoken = \"x\"\n")
                   .ok());
  EXPECT_FALSE(CheckSecretsArePrivate(kPath, S_IFREG | 0644, "hubs = [{name = \"a\", token = \"x\"}]\n").ok());
  EXPECT_TRUE(IsSecretKey("token"));
  EXPECT_FALSE(IsSecretKey("Token"));
}

TEST(ConfigSecretsTest, InvalidTomlIsLeftToTheParser) {
  EXPECT_TRUE(CheckSecretsArePrivate(kPath, S_IFREG | 0644, "token = \n[[hub\n").ok());
}

// LoadConfig applies the check to the file it reads, before anything else in it is validated.
TEST(ConfigSecretsTest, LoadConfigRefusesAReadableFileWithAToken) {
  test::TempDir dir;
  const std::string path = dir.Sub("config.toml");
  std::ofstream(path) << "[[hub]]\ntype = \"onnx\"\nrepo = \"onnx/models:main\"\ntoken = \"secret\"\n";
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto config = LoadConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.error().message(),
              AllOf(HasSubstr(path + ":4: holds a token"), HasSubstr("chmod 600 " + path)));

  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  config = LoadConfig(path);
  // Private now: whatever the parser thinks of the file, it is not the permission error.
  if (!config.ok()) {
    EXPECT_THAT(config.error().message(), Not(HasSubstr("chmod 600")));
  }
}

TEST(CacheDirTest, CreatesAMissingFolderAndItsParentsPrivate) {
  test::TempDir dir;
  const std::string cache = dir.Sub("home/.cache/hubfs");
  std::string note = "stale";
  ASSERT_TRUE(PrepareCacheDir(cache, &note).ok());
  EXPECT_EQ(ModeOf(cache), 0700u);
  EXPECT_EQ(note, "");
}

TEST(CacheDirTest, PrivateFolderIsLeftAlone) {
  test::TempDir dir;
  const std::string cache = dir.Sub("cache");
  ASSERT_EQ(::mkdir(cache.c_str(), 0700), 0);
  std::string note;
  ASSERT_TRUE(PrepareCacheDir(cache, &note).ok());
  EXPECT_EQ(note, "");
  EXPECT_EQ(ModeOf(cache), 0700u);
}

TEST(CacheDirTest, ReadableFolderIsMadePrivateAndSaysSo) {
  test::TempDir dir;
  const std::string cache = dir.Sub("cache");
  ASSERT_EQ(::mkdir(cache.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(cache.c_str(), 0755), 0);
  std::string note;
  ASSERT_TRUE(PrepareCacheDir(cache, &note).ok());
  EXPECT_EQ(ModeOf(cache), 0700u);
  EXPECT_EQ(note, "cache folder " + cache + " was readable by other users (mode 0755); it is now 0700");
}

TEST(CacheDirTest, WritableByOthersIsRefusedAndLeftAsItIs) {
  test::TempDir dir;
  const std::string cache = dir.Sub("cache");
  ASSERT_EQ(::mkdir(cache.c_str(), 0700), 0);
  for (mode_t mode : {0777, 0770, 0702, 01777}) {
    ASSERT_EQ(::chmod(cache.c_str(), mode), 0);
    std::string note;
    Status s = PrepareCacheDir(cache, &note);
    ASSERT_FALSE(s.ok()) << std::oct << mode;
    EXPECT_EQ(s.code(), Code::kPermissionDenied);
    EXPECT_THAT(s.message(), AllOf(HasSubstr("cache folder " + cache + " is writable by other users"),
                                   HasSubstr("chmod 700 " + cache)));
    EXPECT_EQ(ModeOf(cache), mode);
  }
}

TEST(CacheDirTest, AFileIsNotAFolder) {
  test::TempDir dir;
  const std::string cache = dir.Sub("cache");
  std::ofstream(cache) << "x";
  std::string note;
  Status s = PrepareCacheDir(cache, &note);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("is not a folder"));
}

}  // namespace
}  // namespace hubfs::app
