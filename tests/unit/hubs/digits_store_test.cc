#include "hubfs/hubs/digits/digits_store.h"
#include "hubfs/hubs/digits/digits_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace hubfs::hubs::digits {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::vector<std::string> Names(const ResolvedStores& resolved) {
  std::vector<std::string> names;
  for (const Store& s : resolved.stores) names.push_back(s.name);
  return names;
}

TEST(DigitsStoreUrlListTest, SplitsAtCommasTrimsAndSkipsEmpties) {
  auto urls = ParseStoreUrlList(
      " http://a.test/storeA ,, https://b.test/modelstore/5.0/,\thttp://127.0.0.1:8080/ ,");
  ASSERT_TRUE(urls.ok()) << urls.error().ToString();
  EXPECT_THAT(*urls, ElementsAre("http://a.test/storeA", "https://b.test/modelstore/5.0/",
                                 "http://127.0.0.1:8080/"));
}

TEST(DigitsStoreUrlListTest, EmptyMeansNoStore) {
  auto urls = ParseStoreUrlList("");
  ASSERT_TRUE(urls.ok());
  EXPECT_THAT(*urls, IsEmpty());
  EXPECT_THAT(*ParseStoreUrlList(" , "), IsEmpty());
}

TEST(DigitsStoreUrlListTest, RejectsElementsWithoutHttpScheme) {
  for (const char* value : {"/srv/store", "ftp://h/store", "http://a.test, store.test/x",
                            "file:///srv/store", "http://", "http:///path"}) {
    auto urls = ParseStoreUrlList(value);
    ASSERT_FALSE(urls.ok()) << value;
    EXPECT_EQ(urls.error().code(), Code::kInvalidArgument);
    EXPECT_THAT(urls.error().message(), HasSubstr("DIGITS_MODEL_STORE_URL: store URL '"));
  }
}

TEST(DigitsStoreUrlTest, ChecksSchemeHostQueryAndBlanks) {
  EXPECT_TRUE(CheckStoreUrl("HTTPS://Example.test/a").ok());
  EXPECT_TRUE(CheckStoreUrl("http://[::1]:8080/store").ok());
  EXPECT_THAT(CheckStoreUrl("http://h/store?x=1").message(), HasSubstr("query or fragment"));
  EXPECT_THAT(CheckStoreUrl("http://h/my store").message(), HasSubstr("blanks"));
  EXPECT_THAT(CheckStoreUrl(std::string("http://h/a\0b", 12)).message(), HasSubstr("control"));
  EXPECT_THAT(CheckStoreUrl("https:///x").message(), HasSubstr("no host"));
}

TEST(DigitsStoreNameTest, DerivedFromLastPathComponentElseHost) {
  EXPECT_EQ(DeriveStoreName("http://developer.download.nvidia.com/compute/machine-learning/"
                            "modelstore/5.0"),
            "5.0");
  EXPECT_EQ(DeriveStoreName("http://127.0.0.1:8080/storeA/"), "storeA");
  EXPECT_EQ(DeriveStoreName("http://127.0.0.1:8080/"), "127.0.0.1");
  EXPECT_EQ(DeriveStoreName("https://user@models.example.test"), "models.example.test");
  EXPECT_EQ(DeriveStoreName("http://h/my%20store/"), "my store");
  EXPECT_EQ(DeriveStoreName("http://h/a/..//"), "h");  // ".." is no name; the host is
  EXPECT_EQ(DeriveStoreName("http://h/x%00y/"), "x-y");
}

TEST(DigitsStoreNameTest, ConfiguredNamesWinAndDuplicatesGetNumbered) {
  auto resolved = ResolveStores({
      {"http://a.test/modelstore/5.0", ""},
      {"http://b.test/modelstore/5.0/", ""},
      {"http://c.test/x", "5.0-2"},
      {"http://d.test/modelstore/5.0", ""},
      {"http://e.test/storeE", "mine"},
  });
  ASSERT_TRUE(resolved.ok()) << resolved.error().ToString();
  EXPECT_THAT(Names(*resolved), ElementsAre("5.0", "5.0-3", "5.0-2", "5.0-4", "mine"));
  EXPECT_EQ(resolved->stores[0].base, "http://a.test/modelstore/5.0/");
  EXPECT_EQ(resolved->stores[1].base, "http://b.test/modelstore/5.0/");
}

TEST(DigitsStoreNameTest, SameUrlTwiceIsOneStore) {
  auto resolved = ResolveStores({{"http://a.test/s", ""}, {"http://a.test/s/", "other"}});
  ASSERT_TRUE(resolved.ok());
  EXPECT_THAT(Names(*resolved), ElementsAre("s"));
  EXPECT_THAT(resolved->warnings, SizeIs(1));
}

TEST(DigitsStoreNameTest, BadConfiguredNamesAndUrlsAreErrors) {
  EXPECT_THAT(ResolveStores({{"http://a.test/s", ".."}}).error().message(),
              HasSubstr("plain folder name"));
  EXPECT_THAT(ResolveStores({{"http://a.test/s", "x"}, {"http://b.test/s", "x"}}).error().message(),
              HasSubstr("used twice"));
  EXPECT_EQ(ResolveStores({{"store.test/s", ""}}).error().code(), Code::kInvalidArgument);
}

TEST(DigitsUrlTest, EncodesPathSegments) {
  EXPECT_EQ(EncodePathSegment("lenet"), "lenet");
  EXPECT_EQ(EncodePathSegment("my model"), "my%20model");
  EXPECT_EQ(EncodePathSegment("a/b?c#d%"), "a%2Fb%3Fc%23d%25");
  EXPECT_EQ(EncodePathSegment("v1.0_x-y~z:@+"), "v1.0_x-y~z:@+");
  EXPECT_EQ(EncodePathSegment("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(ModelFileUrl("http://h/s/", "my model", "info.json"), "http://h/s/my%20model/info.json");
}

TEST(DigitsUrlTest, DecodesPercentEscapesLeniently) {
  EXPECT_EQ(PercentDecode("my%20model/"), "my model/");
  EXPECT_EQ(PercentDecode("%2e%2E"), "..");
  EXPECT_EQ(PercentDecode("50%"), "50%");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(WithTrailingSlash("http://h/s//"), "http://h/s/");
  EXPECT_EQ(WithTrailingSlash("http://h"), "http://h/");
}

}  // namespace
}  // namespace hubfs::hubs::digits
