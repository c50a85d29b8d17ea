// [archives] and type = "dms" in the configuration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "hubfs/app/config.h"

namespace hubfs::app {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(DmsConfigTest, ModelsBecomeArchivesWithTheLocationsSuffix) {
  auto c = ParseConfig(R"([[hub]]
type = "dms"
models = { "squeezenet" = "https://s3.example/models/squeezenet_v1.1.model", "alexnet" = "https://s3.example/alexnet.mar", "local" = "/srv/x.tar.gz" }
mirror = "http://site-cache:8080"
)", "t.toml");
  ASSERT_TRUE(c) << c.error().ToString();
  const HubConfig& hub = c->hubs.at(0);
  EXPECT_EQ(hub.name, "dms");
  ASSERT_EQ(hub.dms.models.size(), 3u);
  std::map<std::string, std::string> files;
  for (const auto& m : hub.dms.models) files[m.name] = hubs::dms::ArchiveFileName(m) + " " + m.location;
  EXPECT_EQ(files["squeezenet"], "squeezenet.model https://s3.example/models/squeezenet_v1.1.model");
  EXPECT_EQ(files["alexnet"], "alexnet.mar https://s3.example/alexnet.mar");
  EXPECT_EQ(files["local"], "local.tar.gz file:///srv/x.tar.gz");

  // The effective configuration parses back to the same hub, mirror included.
  const std::string described = DescribeConfig(*c);
  auto again = ParseConfig(described, "described");
  ASSERT_TRUE(again) << again.error().ToString() << "\n" << described;
  EXPECT_EQ(again->hubs.at(0).dms.models.size(), 3u);
  EXPECT_EQ(again->hubs.at(0).mirror.url, "http://site-cache:8080");
}

TEST(DmsConfigTest, BadModelsNameTheLineAndKey) {
  auto empty = ParseConfig("[[hub]]\ntype = \"dms\"\n", "t.toml");
  ASSERT_FALSE(empty);
  EXPECT_THAT(empty.error().message(), HasSubstr("'models' must be a table"));
  auto ftp = ParseConfig("[[hub]]\ntype = \"dms\"\nmodels = { a = \"ftp://x/a.model\" }\n", "t.toml");
  ASSERT_FALSE(ftp);
  EXPECT_THAT(ftp.error().message(), AllOf(HasSubstr("t.toml:3"), HasSubstr("models.a")));
  auto number = ParseConfig("[[hub]]\ntype = \"dms\"\nmodels = { a = 3 }\n", "t.toml");
  EXPECT_FALSE(number);
  auto slash = ParseConfig("[[hub]]\ntype = \"dms\"\nmodels = { \"a/b\" = \"http://x/a.model\" }\n", "t.toml");
  EXPECT_FALSE(slash);
}

TEST(ArchivesConfigTest, LimitsAndSwitch) {
  auto c = ParseConfig("[archives]\nviews = false\nmax_members = 10\nmax_bytes = \"1G\"\nmax_ratio = 50\n", "t.toml");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_FALSE(c->archives.views);
  EXPECT_EQ(c->archives.limits.max_members, 10u);
  EXPECT_EQ(c->archives.limits.max_total_bytes, uint64_t{1} << 30);
  EXPECT_EQ(c->archives.limits.max_ratio, 50u);
  auto defaults = ParseConfig("", "t.toml");
  ASSERT_TRUE(defaults);
  EXPECT_TRUE(defaults->archives.views);
  EXPECT_EQ(defaults->archives.limits.max_ratio, 1000u);

  auto bad = ParseConfig("[archives]\nmax_ratio = 0\n", "t.toml");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message(), AllOf(HasSubstr("t.toml:2"), HasSubstr("max_ratio")));
  EXPECT_FALSE(ParseConfig("[archives]\nviewz = true\n", "t.toml"));
  EXPECT_FALSE(ParseConfig("archives = 3\n", "t.toml"));
  EXPECT_FALSE(ParseConfig("[archives]\nmax_bytes = \"50%\"\n", "t.toml"));
}

}  // namespace
}  // namespace hubfs::app
