// The site cache keys of a [[hub]] table (mirror, mirror_fallback, mirror_token, mirror_prefixes)
// and the routes a mount builds from them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/hub_factory.h"
#include "hubfs/app/config.h"

namespace hubfs::app {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kOrigin[] = "/etc/hubfs/site.toml";

std::string ErrorOf(const std::string& text) {
  auto c = ParseConfig(text, kOrigin);
  return c ? std::string("(parsed)") : c.error().message();
}

TEST(MirrorConfig, EveryHubTypeTakesTheKeys) {
  auto c = ParseConfig(R"(
[[hub]]
type = "onnx"
repo = "onnx/models:main"
mirror = "http://site-cache:8080/"
mirror_fallback = true
[[hub]]
type = "digits"
urls = ["http://developer.download.nvidia.com/compute/machine-learning/modelstore/5.0"]
mirror = "https://cache.example/hubfs"
mirror_token = true
[[hub]]
type = "hf"
endpoint = "https://huggingface.co"
mirror = "http://site-cache:8080"
[[hub]]
type = "mindspore"
mirror = "http://site-cache:8080"
mirror_prefixes = ["https://download.mindspore.cn/"]
[[hub]]
type = "onnx"
name = "direct"
repo = "o/n"
)",
                       kOrigin);
  ASSERT_TRUE(c) << c.error().message();
  const auto& hubs = c->hubs;
  EXPECT_EQ(hubs[0].mirror.url, "http://site-cache:8080");  // trailing '/' dropped
  EXPECT_TRUE(hubs[0].mirror.fallback);
  EXPECT_FALSE(hubs[0].mirror.send_token);
  EXPECT_EQ(hubs[1].mirror.url, "https://cache.example/hubfs");
  EXPECT_FALSE(hubs[1].mirror.fallback);
  EXPECT_TRUE(hubs[1].mirror.send_token);
  EXPECT_THAT(hubs[3].mirror.prefixes, ElementsAre("https://download.mindspore.cn/"));
  EXPECT_TRUE(hubs[4].mirror.url.empty());

  const std::string described = DescribeConfig(*c);
  EXPECT_THAT(described, HasSubstr("mirror = \"http://site-cache:8080\"\nmirror_fallback = true\nmirror_token = false\n"));
  EXPECT_THAT(described, HasSubstr("mirror_prefixes = [\"https://download.mindspore.cn/\"]"));
  auto again = ParseConfig(described, "described");  // /.hubfs/config reads back as the same mirrors
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->hubs[3].mirror.prefixes, hubs[3].mirror.prefixes);
  EXPECT_TRUE(again->hubs[0].mirror.fallback);
}

TEST(MirrorConfig, BadValuesNameTheLineAndTheKey) {
  const std::string onnx = "[[hub]]\ntype = \"onnx\"\nrepo = \"o/n\"\n";
  EXPECT_THAT(ErrorOf(onnx + "mirror = \"site-cache:8080\"\n"),
              HasSubstr("site.toml:4: 'mirror' must be an http:// or https:// URL"));
  EXPECT_THAT(ErrorOf(onnx + "mirror = \"http://user:pw@cache\"\n"), HasSubstr("without user, query or fragment"));
  EXPECT_THAT(ErrorOf(onnx + "mirror = \"http://cache/?x\"\n"), HasSubstr("'mirror' must be"));
  EXPECT_THAT(ErrorOf(onnx + "mirror = \"http://cache\"\nmirror_fallback = \"yes\"\n"),
              HasSubstr("site.toml:5: 'mirror_fallback' must be true or false"));
  EXPECT_THAT(ErrorOf(onnx + "mirror_fallback = true\n"), HasSubstr("'mirror_fallback' needs 'mirror'"));
  EXPECT_THAT(ErrorOf(onnx + "mirror_token = false\n"), HasSubstr("'mirror_token' needs 'mirror'"));
  EXPECT_THAT(ErrorOf(onnx + "mirror = \"http://cache\"\nmirror_prefixes = [\"ftp://x\"]\n"),
              HasSubstr("'mirror_prefixes' must hold http:// or https:// URLs"));
  EXPECT_THAT(ErrorOf("[[hub]]\ntype = \"mindspore\"\nmirror = \"http://cache\"\n"),
              HasSubstr("a mindspore hub's 'mirror' needs 'mirror_prefixes'"));
  EXPECT_THAT(ErrorOf(onnx + "mirrors = \"http://cache\"\n"), HasSubstr("unknown key 'mirrors'"));
}

TEST(MirrorConfig, RoutesCoverEachHubsOwnBaseUrls) {
  auto c = ParseConfig(R"(
[[hub]]
type = "onnx"
repo = "onnx/models:main"
mirror = "http://site-cache:8080"
mirror_fallback = true
[[hub]]
type = "digits"
urls = ["http://stores.test/a/5.0", "https://other.test/b"]
mirror = "http://site-cache:8080"
[[hub]]
type = "hf"
endpoint = "https://hf.test"
mirror = "http://site-cache:8080"
mirror_token = true
[[hub]]
type = "mindspore"
mirror = "http://site-cache:8080"
mirror_prefixes = ["https://download.test/models"]
[[hub]]
type = "onnx"
name = "direct"
repo = "o/n"
)",
                       kOrigin);
  ASSERT_TRUE(c) << c.error().message();
  const auto routes = MirrorRoutesOf(*c);
  ASSERT_EQ(routes.size(), 4u);  // the hub without a mirror has no route
  EXPECT_EQ(routes[0].name, "hub onnx");
  EXPECT_EQ(routes[0].mirror, "http://site-cache:8080");
  EXPECT_THAT(routes[0].prefixes, ElementsAre("https://raw.githubusercontent.com/onnx/models/main",
                                              "https://media.githubusercontent.com/media/onnx/models/main"));
  EXPECT_TRUE(routes[0].fallback);
  EXPECT_THAT(routes[1].prefixes, ElementsAre("http://stores.test/a/5.0", "https://other.test/b"));
  EXPECT_THAT(routes[2].prefixes, ElementsAre("https://hf.test"));
  EXPECT_TRUE(routes[2].send_credentials);
  EXPECT_THAT(routes[3].prefixes, ElementsAre("https://download.test/models"));  // not its git_url
}

}  // namespace
}  // namespace hubfs::app
