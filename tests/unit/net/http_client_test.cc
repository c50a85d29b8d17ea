#include "hubfs/net/http_client.h"

#include <gtest/gtest.h>

namespace hubfs::net {
namespace {

TEST(StatusFromHttpTest, SuccessAndNotModifiedAreOk) {
  for (int status : {200, 201, 204, 206, 299, 304}) {
    EXPECT_TRUE(StatusFromHttp(status, "GET", "http://h/x").ok()) << status;
  }
}

TEST(StatusFromHttpTest, MapsErrorsAndKeepsHttpStatus) {
  struct Case {
    int http;
    Code code;
  };
  const Case cases[] = {
      {404, Code::kNotFound},         {410, Code::kNotFound},    {401, Code::kUnauthenticated},
      {403, Code::kPermissionDenied}, {429, Code::kRateLimited}, {400, Code::kInvalidArgument},
      {416, Code::kInvalidArgument},  {500, Code::kUnavailable}, {503, Code::kUnavailable},
      {599, Code::kUnavailable},      {302, Code::kUnavailable}, {100, Code::kUnavailable},
  };
  for (const Case& c : cases) {
    const Status s = StatusFromHttp(c.http, "GET", "http://h/x");
    EXPECT_EQ(s.code(), c.code) << c.http;
    EXPECT_EQ(s.http_status(), c.http);
  }
}

TEST(StatusFromHttpTest, MessageNamesMethodUrlAndStatus) {
  const Status s = StatusFromHttp(404, "HEAD", "http://host/x");
  EXPECT_EQ(s.message(), "HEAD http://host/x: HTTP 404");
  EXPECT_EQ(s.ToString(), "NotFound: HEAD http://host/x: HTTP 404");
}

TEST(JoinUrlTest, ExactlyOneSlash) {
  EXPECT_EQ(JoinUrl("http://h/api", "models"), "http://h/api/models");
  EXPECT_EQ(JoinUrl("http://h/api/", "models"), "http://h/api/models");
  EXPECT_EQ(JoinUrl("http://h/api", "/models"), "http://h/api/models");
  EXPECT_EQ(JoinUrl("http://h/api//", "//models/a/b"), "http://h/api/models/a/b");
  EXPECT_EQ(JoinUrl("http://h", ""), "http://h/");
}

TEST(HttpResponseTest, HeaderLookupIsCaseInsensitiveFirstMatch) {
  HttpResponse r;
  r.headers = {{"ETag", "\"a\""}, {"Content-Length", "5"}, {"etag", "\"b\""}};
  EXPECT_EQ(r.Header("etag"), "\"a\"");
  EXPECT_EQ(r.Header("CONTENT-LENGTH"), "5");
  EXPECT_EQ(r.Header("X-Missing"), std::nullopt);
  EXPECT_EQ(r.Header("Content-Lengt"), std::nullopt);
}

}  // namespace
}  // namespace hubfs::net
