// Local replies must be well-formed HTTP/1.1 responses: each test reads one back with the
// gateway's own ResponseParser and checks its framing, fields and problem+json body.
#include "http/reply.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "http/h1_parser.h"

namespace basalt::http {
namespace {

// A reply parsed back: head, body and how many bytes of the reply the parser used.
struct ParsedReply {
  HeadState state = HeadState::failed;
  int status = 0;
  std::string reason;
  std::string content_type;
  std::string content_length;
  std::string request_id;
  bool has_connection_close = false;
  bool keep_alive = false;
  std::string body;
  size_t consumed = 0;
};

ParsedReply parse_reply(const std::string& reply, bool head_request = false) {
  ParsedReply p;
  ResponseParser parser;
  parser.start(head_request);
  const HeadResult h = parser.parse_head(reply);
  p.state = h.state;
  if (h.state != HeadState::done) return p;

  const ResponseHead& head = parser.head();
  p.status = head.status;
  p.reason = std::string(head.reason);
  p.content_type = std::string(head.fields.find("content-type").value_or(""));
  p.content_length = std::string(head.fields.find("content-length").value_or(""));
  p.request_id = std::string(head.fields.find("x-request-id").value_or(""));
  p.has_connection_close = head.fields.find("connection") == "close";
  p.keep_alive = head.keep_alive;

  const BodyResult b =
      parser.parse_body(std::string_view(reply).substr(h.consumed), p.body, /*chunked_out=*/false);
  EXPECT_TRUE(b.done);
  EXPECT_FALSE(b.failed);
  p.consumed = h.consumed + b.consumed;
  return p;
}

TEST(AppendProblem, WritesAParseableProblemJsonResponse) {
  std::string out;
  append_problem(out, 404, "no route matches the request", "req-1", /*close=*/false);

  const ParsedReply r = parse_reply(out);
  ASSERT_EQ(r.state, HeadState::done);
  EXPECT_EQ(r.consumed, out.size());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.reason, "Not Found");
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_EQ(r.content_length, std::to_string(r.body.size()));
  EXPECT_EQ(r.request_id, "req-1");
  EXPECT_FALSE(r.has_connection_close);
  EXPECT_TRUE(r.keep_alive);

  const auto json = nlohmann::json::parse(r.body);
  EXPECT_EQ(json.at("type"), "about:blank");
  EXPECT_EQ(json.at("title"), "Not Found");
  EXPECT_EQ(json.at("status"), 404);
  EXPECT_EQ(json.at("detail"), "no route matches the request");
  EXPECT_EQ(json.at("request_id"), "req-1");
}

TEST(AppendProblem, CloseAddsConnectionClose) {
  std::string out;
  append_problem(out, 400, "malformed request", "req-2", /*close=*/true);

  const ParsedReply r = parse_reply(out);
  ASSERT_EQ(r.state, HeadState::done);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(r.has_connection_close);
  EXPECT_FALSE(r.keep_alive);
  EXPECT_EQ(nlohmann::json::parse(r.body).at("status"), 400);
}

TEST(AppendProblem, EscapesTheDetailSoTheBodyStaysValidJson) {
  const std::string detail = "a \"quoted\" back\\slash\tand\x01control";
  std::string out;
  append_problem(out, 502, detail, "req-3", /*close=*/false);

  const ParsedReply r = parse_reply(out);
  ASSERT_EQ(r.state, HeadState::done);
  EXPECT_EQ(r.content_length, std::to_string(r.body.size()));
  const auto json = nlohmann::json::parse(r.body);
  EXPECT_EQ(json.at("detail"), detail);
  EXPECT_EQ(json.at("title"), "Bad Gateway");
}

TEST(AppendProblem, UnregisteredStatusGetsTheUnknownPhrase) {
  std::string out;
  append_problem(out, 599, "odd", "", /*close=*/false);

  const ParsedReply r = parse_reply(out);
  ASSERT_EQ(r.state, HeadState::done);
  EXPECT_EQ(r.status, 599);
  EXPECT_EQ(r.reason, "Unknown");
  EXPECT_TRUE(r.request_id.empty());
  EXPECT_EQ(nlohmann::json::parse(r.body).at("title"), "Unknown");
}

TEST(AppendProblem, AppendsToWhatTheBufferAlreadyHolds) {
  std::string out = "prefix";
  append_problem(out, 404, "x", "id", false);
  EXPECT_TRUE(out.starts_with("prefixHTTP/1.1 404 Not Found\r\n"));
}

TEST(AppendSimple, WritesTheBodyWithItsLengthAndExtraHeaders) {
  std::string out;
  append_simple(out, 200, "text/plain", "hello", "X-One: 1\r\nX-Two: 2\r\n", "req-4",
                /*close=*/false, /*head_only=*/false);

  ResponseParser parser;
  parser.start(false);
  const HeadResult h = parser.parse_head(out);
  ASSERT_EQ(h.state, HeadState::done);
  EXPECT_EQ(parser.head().fields.find("x-one"), "1");
  EXPECT_EQ(parser.head().fields.find("x-two"), "2");
  EXPECT_EQ(parser.head().fields.find("content-type"), "text/plain");
  EXPECT_EQ(parser.head().content_length, 5u);
  EXPECT_EQ(std::string_view(out).substr(h.consumed), "hello");
}

TEST(AppendSimple, HeadOnlyKeepsContentLengthButOmitsTheBody) {
  std::string out;
  append_simple(out, 200, "application/json", "{\"ok\":true}", {}, "req-5", /*close=*/false,
                /*head_only=*/true);

  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
  const ParsedReply r = parse_reply(out, /*head_request=*/true);
  ASSERT_EQ(r.state, HeadState::done);
  EXPECT_EQ(r.consumed, out.size());
  EXPECT_EQ(r.content_length, "11");
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(out.find("{\"ok\":true}"), std::string::npos);
}

TEST(AppendSimple, EmptyBodyHasContentLengthZero) {
  std::string out;
  append_simple(out, 200, {}, {}, {}, {}, /*close=*/false, /*head_only=*/false);

  const ParsedReply r = parse_reply(out);
  ASSERT_EQ(r.state, HeadState::done);
  EXPECT_EQ(r.content_length, "0");
  EXPECT_EQ(r.consumed, out.size());
  EXPECT_TRUE(r.content_type.empty());
}

TEST(ReasonPhrase, NamesRegisteredStatuses) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(299), "Unknown");
}

TEST(AppendDecimal, WritesTheFullRange) {
  std::string out;
  append_decimal(out, 0);
  out.push_back(' ');
  append_decimal(out, 18446744073709551615u);
  EXPECT_EQ(out, "0 18446744073709551615");
}

}  // namespace
}  // namespace basalt::http
