// Proxies: which environment variables count, and that the curl client sends requests through
// the proxy of their scheme except to loopback hosts.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "hubfs/net/curl_http_client.h"
#include "testing/loopback_http_server.h"

namespace hubfs::net {
namespace {

ProxySettings FromEnv(const std::map<std::string, std::string>& env) {
  return ProxyFromEnvironment([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

constexpr char kLoopback[] = "localhost,127.0.0.0/8,::1";

TEST(ProxyFromEnvironment, UpperCaseCountsAndLowerCaseWins) {
  ProxySettings none = FromEnv({});
  EXPECT_EQ(none.http, "");
  EXPECT_EQ(none.https, "");
  EXPECT_EQ(none.no_proxy, kLoopback);

  ProxySettings upper = FromEnv({{"HTTP_PROXY", "http://p1:3128"}, {"HTTPS_PROXY", "http://p2:3128"},
                                 {"NO_PROXY", ".corp,site-cache"}});
  EXPECT_EQ(upper.http, "http://p1:3128");
  EXPECT_EQ(upper.https, "http://p2:3128");
  EXPECT_EQ(upper.no_proxy, std::string(".corp,site-cache,") + kLoopback);

  ProxySettings both = FromEnv({{"http_proxy", "http://lower"}, {"HTTP_PROXY", "http://upper"},
                                {"no_proxy", "a"}, {"NO_PROXY", "b"}, {"https_proxy", ""},
                                {"HTTPS_PROXY", "http://upper-tls"}});
  EXPECT_EQ(both.http, "http://lower");
  EXPECT_EQ(both.https, "http://upper-tls");  // an empty variable counts as unset
  EXPECT_EQ(both.no_proxy, std::string("a,") + kLoopback);

  ProxySettings all = FromEnv({{"ALL_PROXY", "socks5h://s:1080"}, {"https_proxy", "http://tls"}});
  EXPECT_EQ(all.http, "socks5h://s:1080");
  EXPECT_EQ(all.https, "http://tls");
}

class ProxyClientTest : public ::testing::Test {
 protected:
  CurlGlobal global_;
  test::LoopbackHttpServer proxy_;   // answers requests for other hosts, as a forward proxy does
  test::LoopbackHttpServer origin_;  // a server on loopback, reached directly
};

TEST_F(ProxyClientTest, RequestsGoThroughTheProxyOfTheirScheme) {
  proxy_.Serve("http://hub.invalid/models/a.onnx", {.body = "via proxy"});
  CurlHttpClient::Options o;
  o.proxy = ProxySettings{proxy_.BaseUrl(), "", kLoopback};
  CurlHttpClient client(o);
  HttpRequest request;
  request.url = "http://hub.invalid/models/a.onnx";  // .invalid never resolves: only a proxy can answer
  auto r = client.Fetch(request);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->body, "via proxy");
  ASSERT_EQ(proxy_.RequestCount("http://hub.invalid/models/a.onnx"), 1);
  EXPECT_EQ(proxy_.Requests("http://hub.invalid/models/a.onnx")[0].Header("Host"), "hub.invalid");
}

TEST_F(ProxyClientTest, LoopbackAndNoProxyHostsAreReachedDirectly) {
  origin_.Serve("/direct", {.body = "direct"});
  CurlHttpClient::Options o;
  const std::string proxy_url = proxy_.BaseUrl();
  o.proxy = ProxyFromEnvironment([&](const char* name) -> const char* {
    return std::string(name) == "HTTP_PROXY" ? proxy_url.c_str() : nullptr;
  });
  CurlHttpClient client(o);
  HttpRequest request;
  request.url = origin_.Url("/direct");
  auto r = client.Fetch(request);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->body, "direct");
  EXPECT_EQ(proxy_.TotalRequests(), 0);
  EXPECT_EQ(origin_.RequestCount("/direct"), 1);
}

TEST_F(ProxyClientTest, HttpsUrlsTunnelThroughTheHttpsProxy) {
  CurlHttpClient::Options o;
  o.proxy = ProxySettings{"", proxy_.BaseUrl(), kLoopback};
  CurlHttpClient client(o);
  HttpRequest request;
  request.url = "https://hub.invalid/x";
  request.max_attempts = 1;
  EXPECT_FALSE(client.Fetch(request));  // the fixture refuses the tunnel (404)
  const auto asked = proxy_.Requests("hub.invalid:443");
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].method, "CONNECT");
}

}  // namespace
}  // namespace hubfs::net
