#include "ops/http.h"

#include <gtest/gtest.h>

namespace geodns::ops {
namespace {

TEST(HttpParser, SimpleGet) {
  HttpParser p;
  ASSERT_EQ(p.feed("GET /explain?name=www.example.com.&client=81.2.69.0%2F24 HTTP/1.1\r\n"
                   "Host: x\r\nAuthorization:  Bearer abc \r\n\r\n"),
            HttpParser::State::complete);
  const auto& r = p.request();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/explain");
  EXPECT_EQ(r.query_param("name"), "www.example.com.");
  EXPECT_EQ(r.query_param("client"), "81.2.69.0/24");
  EXPECT_EQ(r.query_param("type"), std::nullopt);
  EXPECT_EQ(r.header("authorization"), "Bearer abc");
  EXPECT_EQ(r.header("host"), "x");
  EXPECT_TRUE(r.body.empty());
}

TEST(HttpParser, BodyInPiecesByteByByte) {
  const std::string msg =
      "POST /override HTTP/1.1\r\nContent-Length: 17\r\n\r\n{\"state\":\"down\"}X";
  HttpParser p;
  HttpParser::State st = HttpParser::State::incomplete;
  for (size_t i = 0; i < msg.size() - 2; ++i) {
    st = p.feed(msg.substr(i, 1));
    ASSERT_EQ(st, HttpParser::State::incomplete) << i;
  }
  st = p.feed(msg.substr(msg.size() - 2));
  ASSERT_EQ(st, HttpParser::State::complete);
  EXPECT_EQ(p.request().body, "{\"state\":\"down\"}X");
}

TEST(HttpParser, BareLineFeedsAccepted) {
  HttpParser p;
  EXPECT_EQ(p.feed("GET /status HTTP/1.0\nHost: a\n\n"), HttpParser::State::complete);
  EXPECT_EQ(p.request().path, "/status");
}

TEST(HttpParser, HeaderTooLargeIs431) {
  HttpParser p(HttpLimits{1024, 1024});
  HttpParser::State st = p.feed("GET / HTTP/1.1\r\n");
  for (int i = 0; i < 100 && st == HttpParser::State::incomplete; ++i) {
    st = p.feed("X-Filler: 0123456789012345678901234567890123456789\r\n");
  }
  ASSERT_EQ(st, HttpParser::State::error);
  EXPECT_EQ(p.error_status(), 431);
}

TEST(HttpParser, BodyTooLargeIs413) {
  HttpParser p(HttpLimits{1024, 100});
  EXPECT_EQ(p.feed("POST /reload HTTP/1.1\r\nContent-Length: 101\r\n\r\n"),
            HttpParser::State::error);
  EXPECT_EQ(p.error_status(), 413);
}

TEST(HttpParser, MalformedInputsAre400Or5xx) {
  struct Case {
    const char* text;
    int status;
  };
  const Case cases[] = {
      {"GARBAGE\r\n\r\n", 400},
      {"GET\r\n\r\n", 400},
      {"GET / HTTP/1.1 extra\r\n\r\n", 400},
      {"GET noslash HTTP/1.1\r\n\r\n", 400},
      {"GET / SPDY/3\r\n\r\n", 505},
      {"G(T / HTTP/1.1\r\n\r\n", 400},
      {"GET /%zz HTTP/1.1\r\n\r\n", 400},
      {"GET /%4 HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n: empty-name\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
  };
  for (const auto& c : cases) {
    HttpParser p;
    EXPECT_EQ(p.feed(c.text), HttpParser::State::error) << c.text;
    EXPECT_EQ(p.error_status(), c.status) << c.text;
    EXPECT_FALSE(p.error_message().empty());
  }
}

TEST(HttpParser, BytesAfterCompletionIgnored) {
  HttpParser p;
  ASSERT_EQ(p.feed("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"), HttpParser::State::complete);
  EXPECT_EQ(p.feed("more"), HttpParser::State::complete);
  EXPECT_EQ(p.request().path, "/a");
}

TEST(Http, SerializeHasLengthAndClose) {
  HttpResponse r{404, "application/json", "{}\n", {{"Allow", "GET"}}};
  const std::string s = serialize(r);
  EXPECT_TRUE(s.starts_with("HTTP/1.1 404 Not Found\r\n")) << s;
  EXPECT_NE(s.find("Content-Length: 3\r\n"), std::string::npos);
  EXPECT_NE(s.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(s.find("Allow: GET\r\n"), std::string::npos);
  EXPECT_TRUE(s.ends_with("\r\n\r\n{}\n"));
}

TEST(Http, UrlCoding) {
  EXPECT_EQ(url_decode("a%20b+c", true), "a b c");
  EXPECT_EQ(url_decode("a+b", false), "a+b");
  EXPECT_EQ(url_decode("%", true), std::nullopt);
  EXPECT_EQ(url_decode("%4g", true), std::nullopt);
  EXPECT_EQ(url_encode("example.com./fra x&y"), "example.com./fra%20x%26y");
  EXPECT_EQ(url_decode(url_encode("ü &=?#"), true), "ü &=?#");
  auto form = parse_form("datacenter=fra&state=down&reason=a+b%21&flag");
  ASSERT_TRUE(form);
  ASSERT_EQ(form->size(), 4U);
  EXPECT_EQ((*form)[2].second, "a b!");
  EXPECT_EQ((*form)[3].first, "flag");
  EXPECT_EQ(parse_form("a=%zz"), std::nullopt);
}

}  // namespace
}  // namespace geodns::ops
