// import_caches / import_dirs and the environment that fills import_dirs (config.h).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "hubfs/app/config.h"

namespace hubfs::app {
namespace {

using Dirs = std::vector<std::string>;

class ImportConfigTest : public ::testing::Test {
 protected:
  EnvLookup Lookup() {
    return [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    };
  }
  Dirs Resolve(const std::string& toml) {
    auto parsed = ParseConfig(toml, "t.toml");
    EXPECT_TRUE(parsed) << parsed.error().ToString();
    Config c = parsed ? *parsed : Config{};
    EXPECT_TRUE(ApplyHfEnvironment(Lookup(), &c).ok());
    ApplyImportEnvironment(Lookup(), &c);
    EXPECT_TRUE(c.import_dirs);
    return c.import_dirs.value_or(Dirs{});
  }
  std::map<std::string, std::string> env_;
};

TEST_F(ImportConfigTest, DefaultsAreTheClientsOwnCaches) {
  env_ = {{"HOME", "/home/u"}};
  EXPECT_EQ(Resolve(""), (Dirs{"/home/u/.cache/onnx/hub", "/home/u/.cache/huggingface/hub", "/home/u/.mscache"}));
  auto c = ParseConfig("", "t.toml");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->import_caches);
}

TEST_F(ImportConfigTest, OnnxHomeThenXdgCacheHomeAsOnnxHubDecides) {
  env_ = {{"HOME", "/home/u"}, {"XDG_CACHE_HOME", "/xdg"}, {"ONNX_HOME", "/onnx-home/"}};
  EXPECT_EQ(Resolve(""), (Dirs{"/onnx-home/hub", "/xdg/huggingface/hub", "/home/u/.mscache"}));
  env_.erase("ONNX_HOME");
  EXPECT_EQ(Resolve(""), (Dirs{"/xdg/onnx/hub", "/xdg/huggingface/hub", "/home/u/.mscache"}));
}

TEST_F(ImportConfigTest, HuggingFaceVariablesAndHubCachesAreIncluded) {
  env_ = {{"HOME", "/home/u"}, {"HF_HOME", "/hf"}};
  EXPECT_EQ(Resolve(""), (Dirs{"/home/u/.cache/onnx/hub", "/hf/hub", "/home/u/.mscache"}));
  env_["HF_HUB_CACHE"] = "/hub-cache";
  // A hub's own hf_cache first, then the environment's; the same folder only once.
  EXPECT_EQ(Resolve("[[hub]]\ntype = \"hf\"\nhf_cache = \"/own\"\n[[hub]]\ntype = \"hf\"\nname = \"b\"\n"),
            (Dirs{"/home/u/.cache/onnx/hub", "/own", "/hub-cache", "/home/u/.mscache"}));
}

TEST_F(ImportConfigTest, TheFileWinsOverTheEnvironment) {
  env_ = {{"HOME", "/home/u"}, {"ONNX_HOME", "/onnx-home"}};
  EXPECT_EQ(Resolve("import_dirs = [\"/data/onnx/hub\", \"/data/hf\"]\n"), (Dirs{"/data/onnx/hub", "/data/hf"}));
  EXPECT_EQ(Resolve("import_dirs = []\n"), Dirs{});
}

TEST_F(ImportConfigTest, ParsesAndDescribesTheKeys) {
  auto off = ParseConfig("import_caches = false\nimport_dirs = [\"/a\"]\n", "t.toml");
  ASSERT_TRUE(off) << off.error().ToString();
  EXPECT_FALSE(off->import_caches);
  const std::string described = DescribeConfig(*off);
  EXPECT_NE(described.find("import_caches = false\n"), std::string::npos) << described;
  EXPECT_NE(described.find("import_dirs = [\"/a\"]\n"), std::string::npos) << described;
  // What /.hubfs/config shows parses back to the same settings.
  auto again = ParseConfig(described, "described");
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_FALSE(again->import_caches);
  EXPECT_EQ(again->import_dirs, off->import_dirs);

  auto bad_bool = ParseConfig("import_caches = \"yes\"\n", "t.toml");
  ASSERT_FALSE(bad_bool);
  EXPECT_NE(bad_bool.error().message().find("t.toml:1"), std::string::npos) << bad_bool.error().message();
  EXPECT_FALSE(ParseConfig("import_dirs = \"/a\"\n", "t.toml"));
  EXPECT_FALSE(ParseConfig("import_dirs = [\"relative\"]\n", "t.toml"));
  EXPECT_FALSE(ParseConfig("import_dirs = [1]\n", "t.toml"));
}

}  // namespace
}  // namespace hubfs::app
