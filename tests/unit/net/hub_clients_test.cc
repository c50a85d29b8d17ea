// AuthorizingClient and LocalFileClient: the decorators a mount's hubs talk through.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hubfs/net/authorizing_client.h"
#include "hubfs/net/local_file_client.h"
#include "testing/fake_http_client.h"
#include "testing/temp_dir.h"

namespace hubfs::net {
namespace {

HttpRequest Get(const std::string& url, std::optional<ByteRange> range = std::nullopt) {
  HttpRequest r;
  r.url = url;
  r.range = range;
  return r;
}

class StringSink final : public ByteSink {
 public:
  Status Begin(const HttpResponse& head) override {
    status = head.status;
    return Status();
  }
  Status Write(std::string_view data) override {
    body.append(data);
    return Status();
  }
  int status = 0;
  std::string body;
};

TEST(OriginOf, NormalizesSchemeHostAndDefaultPorts) {
  EXPECT_EQ(OriginOf("https://HuggingFace.co/api/x"), "https://huggingface.co");
  EXPECT_EQ(OriginOf("https://huggingface.co:443/x"), "https://huggingface.co");
  EXPECT_EQ(OriginOf("http://127.0.0.1:8080?x"), "http://127.0.0.1:8080");
  EXPECT_EQ(OriginOf("http://user@h:80/"), "http://h");
  EXPECT_EQ(OriginOf("no-scheme"), "");
}

TEST(AuthorizingClient, SendsTheTokenOnlyToItsOrigin) {
  test::FakeHttpClient fake;
  fake.Serve("http://hub.test:8080/api/a", {.body = "a"});
  fake.Serve("http://hub.test:8081/blob", {.body = "b"});
  fake.Serve("http://other.test/x", {.body = "c"});
  AuthorizingClient client(fake, {{"http://hub.test:8080/", "hf_secret", "hint"}});
  ASSERT_TRUE(client.Fetch(Get("http://hub.test:8080/api/a")));
  ASSERT_TRUE(client.Fetch(Get("http://hub.test:8081/blob")));
  StringSink sink;
  ASSERT_TRUE(client.Stream(Get("http://other.test/x"), sink));
  EXPECT_EQ(fake.Requests("http://hub.test:8080/api/a").at(0).Header("Authorization"), "Bearer hf_secret");
  EXPECT_FALSE(fake.Requests("http://hub.test:8081/blob").at(0).Header("Authorization"));
  EXPECT_FALSE(fake.Requests("http://other.test/x").at(0).Header("Authorization"));
}

TEST(AuthorizingClient, RefusalsFromItsOriginCarryTheHintAndNeverTheToken) {
  test::FakeHttpClient fake;
  fake.Serve("http://hub.test/gated", {.status = 403});
  fake.Serve("http://hub.test/gone", {.status = 404});
  AuthorizingClient client(fake, {{"http://hub.test", "hf_secret", "the token has no access"}});
  auto gated = client.Fetch(Get("http://hub.test/gated"));
  ASSERT_FALSE(gated);
  EXPECT_EQ(gated.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(gated.error().http_status(), 403);
  EXPECT_NE(gated.error().message().find("the token has no access"), std::string::npos);
  EXPECT_EQ(gated.error().message().find("hf_secret"), std::string::npos);
  auto gone = client.Fetch(Get("http://hub.test/gone"));
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().message().find("token"), std::string::npos);
}

class LocalFileClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.Sub("root/sub"));
    std::ofstream(dir_.Sub("root/sub/blob")) << "0123456789";
    std::ofstream(dir_.Sub("outside")) << "secret";
    std::filesystem::create_symlink(dir_.Sub("outside"), dir_.Sub("root/escape"));
  }
  std::string Url(const std::string& rel) { return "file://" + dir_.Sub(rel); }
  test::TempDir dir_;
  test::FakeHttpClient fake_;
};

TEST_F(LocalFileClientTest, ServesWholeFilesAndRangesBelowItsRoots) {
  LocalFileClient client(fake_, {dir_.Sub("root")});
  auto whole = client.Fetch(Get(Url("root/sub/blob")));
  ASSERT_TRUE(whole) << whole.error().ToString();
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, "0123456789");
  StringSink sink;
  auto part = client.Stream(Get(Url("root/sub/blob"), ByteRange{2, 5}), sink);
  ASSERT_TRUE(part);
  EXPECT_EQ(sink.status, 206);
  EXPECT_EQ(sink.body, "2345");
  EXPECT_EQ(part->Header("Content-Range"), "bytes 2-5/10");
  auto past = client.Fetch(Get(Url("root/sub/blob"), ByteRange{10, 12}));
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().http_status(), 416);
  EXPECT_EQ(fake_.TotalRequests(), 0);
}

TEST_F(LocalFileClientTest, RefusesEverythingOutsideItsRootsAndPassesOtherUrlsOn) {
  LocalFileClient client(fake_, {dir_.Sub("root")});
  auto escape = client.Fetch(Get(Url("root/escape")));
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().code(), Code::kPermissionDenied);
  auto dotdot = client.Fetch(Get(Url("root/../outside")));
  ASSERT_FALSE(dotdot);
  EXPECT_EQ(dotdot.error().code(), Code::kPermissionDenied);
  auto missing = client.Fetch(Get(Url("root/none")));
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().IsNotFound());
  LocalFileClient none(fake_, {});
  EXPECT_FALSE(none.Fetch(Get(Url("root/sub/blob"))));
  fake_.Serve("http://hub.test/x", {.body = "net"});
  auto passed = client.Fetch(Get("http://hub.test/x"));
  ASSERT_TRUE(passed);
  EXPECT_EQ(passed->body, "net");
}

}  // namespace
}  // namespace hubfs::net
