// RFC 9112 conformance of http::RequestParser and http::ResponseParser: one test per rule, each
// asserting the state the parser reaches and, for refusals, the status and reason it reports.
#include "http/h1_parser.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace basalt::http {
namespace {

constexpr uint64_t kNoLimit = ~uint64_t{0};

// A request head parsed in one call. The parser's views point into `text`, which this object
// owns and never moves, so it is neither copyable nor movable.
class Request {
 public:
  explicit Request(std::string text, RequestLimits limits = {})
      : text_(std::move(text)), parser_(limits) {
    parser_.start();
    result_ = parser_.parse_head(text_);
  }
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  const HeadResult& result() const { return result_; }
  const RequestHead& head() const { return parser_.head(); }
  RequestParser& parser() { return parser_; }
  std::string_view rest() const { return std::string_view(text_).substr(result_.consumed); }

  // Parses everything after the head as body, under `limit`.
  BodyResult body(std::string& out, uint64_t limit = kNoLimit) {
    parser_.set_body_limit(limit);
    return parser_.parse_body(rest(), out);
  }

 private:
  std::string text_;
  RequestParser parser_;
  HeadResult result_;
};

// "GET / HTTP/1.1" with a Host field, the given field lines and the blank line.
std::string get(std::string_view fields = {}) {
  return "GET / HTTP/1.1\r\nHost: example.com\r\n" + std::string(fields) + "\r\n";
}

std::string post(std::string_view fields, std::string_view body) {
  return "POST /upload HTTP/1.1\r\nHost: example.com\r\n" + std::string(fields) + "\r\n" +
         std::string(body);
}

testing::AssertionResult refused(const HeadResult& r, int status, std::string_view reason) {
  if (r.state != HeadState::failed)
    return testing::AssertionFailure()
           << "head was not refused (state " << static_cast<int>(r.state) << ")";
  if (r.failure.status != status || r.failure.reason != reason)
    return testing::AssertionFailure() << "refused with " << r.failure.status << " "
                                       << r.failure.reason << " (" << r.failure.detail << ")";
  return testing::AssertionSuccess();
}

testing::AssertionResult refused(const BodyResult& r, int status, std::string_view reason) {
  if (!r.failed) return testing::AssertionFailure() << "body was not refused";
  if (r.failure.status != status || r.failure.reason != reason)
    return testing::AssertionFailure() << "refused with " << r.failure.status << " "
                                       << r.failure.reason << " (" << r.failure.detail << ")";
  return testing::AssertionSuccess();
}

// Decodes a chunked body that has no extensions and no trailers, which is what the parsers
// emit; nullopt if `s` is anything else, including a body with bytes after its last chunk.
std::optional<std::string> dechunk(std::string_view s) {
  std::string data;
  for (;;) {
    size_t eol = s.find("\r\n");
    if (eol == std::string_view::npos || eol == 0) return std::nullopt;
    size_t size = 0;
    for (char c : s.substr(0, eol)) {
      const auto digit = std::string_view("0123456789abcdef").find(c);
      if (digit == std::string_view::npos) return std::nullopt;
      size = size * 16 + digit;
    }
    s.remove_prefix(eol + 2);
    if (size == 0) return s == "\r\n" ? std::optional(data) : std::nullopt;
    if (s.size() < size + 2 || s.substr(size, 2) != "\r\n") return std::nullopt;
    data.append(s.substr(0, size));
    s.remove_prefix(size + 2);
  }
}

// ---- request line and head ------------------------------------------------------------------

TEST(RequestHead, ParsesAValidGet) {
  const std::string text =
      "GET /users/42?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\n\r\n";
  Request r(text);
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.result().consumed, text.size());
  EXPECT_EQ(r.head().method, "GET");
  EXPECT_EQ(r.head().target, "/users/42?x=1");
  EXPECT_EQ(r.head().version, 11u);
  EXPECT_EQ(r.head().host, "example.com:8080");
  EXPECT_EQ(r.head().fields.size(), 2u);
  EXPECT_EQ(r.head().fields.find("accept"), "*/*");
  EXPECT_EQ(r.head().body, BodyKind::none);
  EXPECT_TRUE(r.head().keep_alive);
  EXPECT_FALSE(r.head().expect_continue);
  EXPECT_TRUE(r.parser().body_done());
}

TEST(RequestHead, ConsumesOnlyTheHeadAndLeavesPipelinedBytes) {
  const std::string first = get();
  Request r(first + "GET /next HTTP/1.1\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.result().consumed, first.size());
}

TEST(RequestHead, PersistsByDefaultOnHttp11) {
  Request r(get());
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_TRUE(r.head().keep_alive);
}

TEST(RequestHead, ConnectionCloseEndsPersistenceOnHttp11) {
  Request r(get("Connection: close\r\n"));
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_FALSE(r.head().keep_alive);
}

TEST(RequestHead, ClosesByDefaultOnHttp10) {
  Request r("GET / HTTP/1.0\r\n\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().version, 10u);
  EXPECT_FALSE(r.head().keep_alive);
}

TEST(RequestHead, ConnectionKeepAlivePersistsOnHttp10) {
  Request r("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_TRUE(r.head().keep_alive);
}

TEST(RequestHead, TransferEncodingOnHttp10IsReadAsChunkedThenCloses) {
  Request r("POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().body, BodyKind::chunked);
  EXPECT_FALSE(r.head().keep_alive);
}

TEST(RequestHead, ConnectionCloseWinsOverKeepAlive) {
  Request r("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_FALSE(r.head().keep_alive);
}

TEST(RequestHead, CollectsConnectionTokensOtherThanCloseAndKeepAlive) {
  Request r(get("Connection: keep-alive, X-Trace\r\nConnection: , x-debug ,\r\n"));
  ASSERT_EQ(r.result().state, HeadState::done);
  const std::vector<std::string_view> expected = {"X-Trace", "x-debug"};
  EXPECT_EQ(r.head().connection_tokens, expected);
  EXPECT_TRUE(r.head().keep_alive);
}

TEST(RequestHead, RequiresHostOnHttp11) {
  Request r("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n");
  EXPECT_TRUE(refused(r.result(), 400, "bad_request"));
}

TEST(RequestHead, AcceptsNoHostOnHttp10) {
  Request r("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_TRUE(r.head().host.empty());
}

TEST(RequestHead, RefusesTwoHostFields) {
  EXPECT_TRUE(refused(Request(get("Host: example.com\r\n")).result(), 400, "bad_request"));
  EXPECT_TRUE(refused(Request(get("Host: other.example\r\n")).result(), 400, "bad_request"));
}

// A well-formed version other than 1.0 and 1.1 is 505 (RFC 9110 15.6.6); a malformed one 400.
TEST(RequestHead, RefusesHttpVersionsOtherThan10And11) {
  EXPECT_TRUE(refused(Request("GET / HTTP/2.0\r\nHost: a\r\n\r\n").result(), 505, "bad_request"));
  EXPECT_TRUE(refused(Request("GET / HTTP/1.2\r\nHost: a\r\n\r\n").result(), 505, "bad_request"));
  EXPECT_TRUE(refused(Request("GET / HTTP/0.9\r\nHost: a\r\n\r\n").result(), 505, "bad_request"));
  EXPECT_TRUE(refused(Request("GET / HTTX/1.1\r\nHost: a\r\n\r\n").result(), 400, "bad_request"));
  EXPECT_TRUE(refused(Request("GET / HTTP/1.10\r\nHost: a\r\n\r\n").result(), 400, "bad_request"));
  EXPECT_TRUE(refused(Request("GET / HTTP/a.1\r\nHost: a\r\n\r\n").result(), 400, "bad_request"));
  EXPECT_TRUE(refused(Request("GET /HTTP/2.0\r\nHost: a\r\n\r\n").result(), 400, "bad_request"));
}

TEST(RequestHead, RefusesAnEmptyRequestLine) {
  EXPECT_TRUE(
      refused(Request("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").result(), 400, "bad_request"));
}

TEST(RequestHead, RefusesWhitespaceBeforeTheColon) {
  EXPECT_TRUE(refused(Request(get("X-Name : value\r\n")).result(), 400, "bad_request"));
  EXPECT_TRUE(refused(Request(get("X-Name\t: value\r\n")).result(), 400, "bad_request"));
}

TEST(RequestHead, RefusesObsoleteLineFolding) {
  EXPECT_TRUE(refused(Request(get("X-Name: a\r\n b\r\n")).result(), 400, "bad_request"));
  EXPECT_TRUE(refused(Request(get("X-Name: a\r\n\tb\r\n")).result(), 400, "bad_request"));
}

TEST(RequestHead, RefusesLeadingWhitespaceOnTheRequestLine) {
  EXPECT_TRUE(refused(Request(" GET / HTTP/1.1\r\nHost: a\r\n\r\n").result(), 400, "bad_request"));
}

TEST(RequestHead, RefusesABareCrInAFieldValue) {
  EXPECT_TRUE(refused(Request(get("X-Name: a\rb\r\n")).result(), 400, "bad_request"));
}

TEST(RequestHead, RefusesABareLf) {
  EXPECT_TRUE(refused(Request(get("X-Name: a\nb\r\n")).result(), 400, "bad_request"));
  EXPECT_TRUE(refused(Request("GET / HTTP/1.1\nHost: a\r\n\r\n").result(), 400, "bad_request"));
  EXPECT_TRUE(refused(Request("GET / HTTP/1.1\r\nHost: a\n\n").result(), 400, "bad_request"));
}

TEST(RequestHead, RefusesNulInAFieldValue) {
  EXPECT_TRUE(
      refused(Request(get(std::string("X-Name: a\0b\r\n", 13))).result(), 400, "bad_request"));
}

TEST(RequestHead, RefusesControlCharactersButAcceptsTabAndObsText) {
  for (char c : {'\x01', '\x08', '\x0b', '\x0c', '\x1b', '\x1f', '\x7f'}) {
    std::string field = "X-Name: a";
    field += c;
    field += "b\r\n";
    EXPECT_TRUE(refused(Request(get(field)).result(), 400, "bad_request"))
        << "byte " << static_cast<int>(c);
  }
  Request ok(get("X-Name: a\tb \xc3\xa9\r\n"));
  ASSERT_EQ(ok.result().state, HeadState::done);
  EXPECT_EQ(ok.head().fields.find("x-name"), "a\tb \xc3\xa9");
}

TEST(RequestHead, RefusesAHeadLargerThanMaxHeaderBytes) {
  const RequestLimits limits{.max_header_bytes = 64, .max_header_count = 100};
  const std::string big = get("X-Pad: " + std::string(64, 'x') + "\r\n");
  EXPECT_TRUE(refused(Request(big, limits).result(), 431, "header_too_large"));

  // The limit applies before the head is complete, so a client cannot stall the scan.
  const std::string unterminated = "GET / HTTP/1.1\r\nX-Pad: " + std::string(100, 'x');
  EXPECT_TRUE(refused(Request(unterminated, limits).result(), 431, "header_too_large"));
}

TEST(RequestHead, AcceptsAHeadWithinMaxHeaderBytes) {
  const std::string head = get();
  const RequestLimits limits{.max_header_bytes = static_cast<uint32_t>(head.size()),
                             .max_header_count = 100};
  Request r(head, limits);
  EXPECT_EQ(r.result().state, HeadState::done);
}

TEST(RequestHead, RefusesMoreThanMaxHeaderCountFields) {
  const RequestLimits limits{.max_header_bytes = 32 * 1024, .max_header_count = 3};
  EXPECT_EQ(Request(get("A: 1\r\nB: 2\r\n"), limits).result().state, HeadState::done);
  EXPECT_TRUE(
      refused(Request(get("A: 1\r\nB: 2\r\nC: 3\r\n"), limits).result(), 431, "too_many_headers"));
}

TEST(RequestHead, AsksForMoreUntilTheHeadIsComplete) {
  EXPECT_EQ(Request("").result().state, HeadState::need_more);
  EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\n").result().state, HeadState::need_more);
  EXPECT_EQ(Request("GET / HTTP/1.1\r\nHost: a\r\n\r").result().state, HeadState::need_more);
}

// The scan resumes where it stopped; feeding prefixes of one buffer must end in the same head
// as parsing it whole, with nothing consumed before that.
TEST(RequestHead, ByteAtATimeGivesTheSameHeadAsAllAtOnce) {
  const std::string text = post("Content-Length: 3\r\nX-A: 1\r\nConnection: x-hop\r\n", "abc");
  Request whole(text);
  ASSERT_EQ(whole.result().state, HeadState::done);

  RequestParser p({});
  p.start();
  HeadResult r;
  size_t fed = 0;
  while (fed < text.size()) {
    r = p.parse_head(std::string_view(text).substr(0, ++fed));
    if (r.state != HeadState::need_more) break;
    EXPECT_EQ(r.consumed, 0u);
  }
  ASSERT_EQ(r.state, HeadState::done);
  EXPECT_EQ(r.consumed, whole.result().consumed);
  EXPECT_EQ(fed, whole.result().consumed);
  EXPECT_EQ(p.head().method, whole.head().method);
  EXPECT_EQ(p.head().target, whole.head().target);
  EXPECT_EQ(p.head().fields.size(), whole.head().fields.size());
  EXPECT_EQ(p.head().body, BodyKind::length);
  EXPECT_EQ(p.head().content_length, 3u);
  EXPECT_EQ(p.head().connection_tokens, whole.head().connection_tokens);
}

TEST(RequestHead, ByteAtATimeReportsTheSameRefusalAsAllAtOnce) {
  const std::string text = get("X-Name: a\rb\r\n");
  RequestParser p({});
  p.start();
  HeadResult r;
  for (size_t fed = 1; fed <= text.size(); ++fed) {
    r = p.parse_head(std::string_view(text).substr(0, fed));
    if (r.state != HeadState::need_more) break;
  }
  EXPECT_TRUE(refused(r, 400, "bad_request"));
}

TEST(RequestHead, StartResetsTheParserForTheNextRequest) {
  const std::string first = get("Connection: x-one\r\nExpect: 100-continue\r\n");
  const std::string second = "GET /two HTTP/1.0\r\n\r\n";
  RequestParser p({});
  p.start();
  ASSERT_EQ(p.parse_head(first).state, HeadState::done);
  p.start();
  ASSERT_EQ(p.parse_head(second).state, HeadState::done);
  EXPECT_EQ(p.head().target, "/two");
  EXPECT_EQ(p.head().fields.size(), 0u);
  EXPECT_TRUE(p.head().connection_tokens.empty());
  EXPECT_FALSE(p.head().expect_continue);
  EXPECT_TRUE(p.head().host.empty());
}

TEST(RequestHead, Expect100ContinueIsRecorded) {
  Request r(post("Content-Length: 3\r\nExpect: 100-Continue\r\n", ""));
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_TRUE(r.head().expect_continue);
}

TEST(RequestHead, ExpectOnHttp10IsIgnored) {
  Request r("POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_FALSE(r.head().expect_continue);
  Request other("GET / HTTP/1.0\r\nExpect: 200-ok\r\n\r\n");
  EXPECT_EQ(other.result().state, HeadState::done);
}

TEST(RequestHead, RefusesOtherExpectations) {
  EXPECT_TRUE(refused(Request(get("Expect: 200-ok\r\n")).result(), 417, "bad_request"));
  EXPECT_TRUE(refused(Request(get("Expect: 100-continue, x\r\n")).result(), 417, "bad_request"));
}

// ---- message framing ------------------------------------------------------------------------

TEST(RequestFraming, ContentLengthGivesALengthBody) {
  Request r(post("Content-Length: 5\r\n", "hello"));
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().body, BodyKind::length);
  EXPECT_EQ(r.head().content_length, 5u);
}

TEST(RequestFraming, ZeroContentLengthMeansNoBody) {
  Request r(post("Content-Length: 0\r\n", ""));
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().body, BodyKind::none);
  EXPECT_TRUE(r.parser().body_done());
}

TEST(RequestFraming, RefusesContentLengthWithTransferEncoding) {
  EXPECT_TRUE(
      refused(Request(post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "")).result(),
              400, "bad_request"));
  EXPECT_TRUE(
      refused(Request(post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "")).result(),
              400, "bad_request"));
  EXPECT_TRUE(
      refused(Request(post("Transfer-Encoding: gzip\r\nContent-Length: 5\r\n", "")).result(), 400,
              "bad_request"));
}

TEST(RequestFraming, RefusesTwoDifferentContentLengths) {
  EXPECT_TRUE(refused(Request(post("Content-Length: 5\r\nContent-Length: 6\r\n", "")).result(), 400,
                      "bad_request"));
}

TEST(RequestFraming, AcceptsIdenticalDuplicateContentLengths) {
  Request r(post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"));
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().body, BodyKind::length);
  EXPECT_EQ(r.head().content_length, 5u);
}

TEST(RequestFraming, RefusesContentLengthThatIsNotASingleDecimal) {
  for (std::string_view value :
       {"1,2", "5, 5", "+5", "-1", "0x10", "", " ", "5 5", "1e3", "99999999999999999999"}) {
    const std::string fields = "Content-Length: " + std::string(value) + "\r\n";
    EXPECT_TRUE(refused(Request(post(fields, "")).result(), 400, "bad_request"))
        << "Content-Length: '" << value << "'";
  }
}

TEST(RequestFraming, ChunkedGivesAChunkedBody) {
  Request r(post("Transfer-Encoding: Chunked\r\n", ""));
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().body, BodyKind::chunked);
}

TEST(RequestFraming, AnUnknownTransferCodingIsNotImplemented) {
  EXPECT_TRUE(refused(Request(post("Transfer-Encoding: gzip\r\n", "")).result(), 501,
                      "unsupported_transfer_coding"));
  EXPECT_TRUE(refused(Request(post("Transfer-Encoding: gzip, chunked\r\n", "")).result(), 501,
                      "unsupported_transfer_coding"));
}

TEST(RequestFraming, RefusesChunkedThatIsNotTheFinalCoding) {
  EXPECT_TRUE(refused(Request(post("Transfer-Encoding: chunked, gzip\r\n", "")).result(), 400,
                      "bad_request"));
}

TEST(RequestFraming, RefusesChunkedTwice) {
  EXPECT_TRUE(refused(Request(post("Transfer-Encoding: chunked, chunked\r\n", "")).result(), 400,
                      "bad_request"));
  EXPECT_TRUE(refused(
      Request(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "")).result(),
      400, "bad_request"));
}

TEST(RequestFraming, CodingsAcrossTwoTransferEncodingFieldsAreJudgedTogether) {
  EXPECT_TRUE(refused(
      Request(post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "")).result(), 501,
      "unsupported_transfer_coding"));
}

TEST(RequestFraming, RefusesMalformedTransferEncoding) {
  EXPECT_TRUE(refused(Request(post("Transfer-Encoding: \r\n", "")).result(), 400, "bad_request"));
  EXPECT_TRUE(refused(Request(post("Transfer-Encoding: chunked;q=1\r\n", "")).result(), 400,
                      "bad_request"));
}

// ---- request body ---------------------------------------------------------------------------

TEST(RequestBody, ContentLengthBodyPassesThroughAndStopsAtItsEnd) {
  Request r(post("Content-Length: 5\r\n", "helloGET / HTTP/1.1\r\n"));
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.body(out);
  EXPECT_FALSE(b.failed);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(b.consumed, 5u);
  EXPECT_EQ(out, "hello");
  EXPECT_TRUE(r.parser().body_done());
}

TEST(RequestBody, ContentLengthBodyArrivesInPieces) {
  const std::string text = post("Content-Length: 10\r\n", "0123456789");
  Request r(text.substr(0, text.size() - 10));
  ASSERT_EQ(r.result().state, HeadState::done);
  r.parser().set_body_limit(kNoLimit);
  std::string out;
  BodyResult b = r.parser().parse_body("0123", out);
  EXPECT_EQ(b.consumed, 4u);
  EXPECT_FALSE(b.done);
  b = r.parser().parse_body("456789", out);
  EXPECT_EQ(b.consumed, 6u);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(out, "0123456789");
}

TEST(RequestBody, ChunkedBodyIsReframedWithoutExtensionsOrTrailers) {
  Request r(post("Transfer-Encoding: chunked\r\n",
                 "5;name=value\r\nhello\r\n6\r\n world\r\n000\r\nX-Trailer: t\r\n\r\nNEXT"));
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.body(out);
  EXPECT_FALSE(b.failed);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(r.rest().substr(b.consumed), "NEXT");
  EXPECT_EQ(out, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_EQ(dechunk(out), "hello world");
}

TEST(RequestBody, TrailersAreNotAddedToTheHead) {
  Request r(post("Transfer-Encoding: chunked\r\n",
                 "1\r\na\r\n0\r\nX-Trailer: t\r\nConnection: x-late\r\n\r\n"));
  ASSERT_EQ(r.result().state, HeadState::done);
  const size_t fields = r.head().fields.size();
  std::string out;
  const BodyResult b = r.body(out);
  EXPECT_TRUE(b.done);
  EXPECT_FALSE(b.failed);
  EXPECT_EQ(r.head().fields.size(), fields);
  EXPECT_FALSE(r.head().fields.find("x-trailer"));
  EXPECT_TRUE(r.head().connection_tokens.empty());
}

TEST(RequestBody, EmptyChunkedBodyIsTheLastChunkOnly) {
  Request r(post("Transfer-Encoding: chunked\r\n", "0\r\n\r\n"));
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.body(out);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(out, "0\r\n\r\n");
}

// Chunk boundaries in the output may differ from the input's; the decoded data may not.
TEST(RequestBody, ChunkedBodyFedByteAtATimeDecodesToTheSameData) {
  const std::string data = "The quick brown fox jumps over the lazy dog";
  const std::string body = "a;x=\"q\"\r\n" + data.substr(0, 10) + "\r\n21\r\n" + data.substr(10) +
                           "\r\n0\r\nT: 1\r\n\r\n";
  Request r(post("Transfer-Encoding: chunked\r\n", ""));
  ASSERT_EQ(r.result().state, HeadState::done);
  r.parser().set_body_limit(kNoLimit);

  std::string pending, out;
  BodyResult b;
  for (char c : body) {
    ASSERT_FALSE(b.done);
    pending.push_back(c);
    b = r.parser().parse_body(pending, out);
    ASSERT_FALSE(b.failed) << b.failure.detail;
    pending.erase(0, b.consumed);
  }
  EXPECT_TRUE(b.done);
  EXPECT_TRUE(pending.empty());
  EXPECT_TRUE(out.ends_with("0\r\n\r\n"));
  EXPECT_EQ(dechunk(out), data);
}

TEST(RequestBody, RefusesAChunkSizeThatIsNotHex) {
  Request r(post("Transfer-Encoding: chunked\r\n", "zz\r\nhello\r\n0\r\n\r\n"));
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  EXPECT_TRUE(refused(r.body(out), 400, "bad_request"));
}

TEST(RequestBody, RefusesABadChunkExtension) {
  for (std::string_view size_line :
       {"5;\r\n", "5;=v\r\n", "5 x\r\n", "5;a=b c\r\n", "5;a=\"open\r\n"}) {
    Request r(
        post("Transfer-Encoding: chunked\r\n", std::string(size_line) + "hello\r\n0\r\n\r\n"));
    ASSERT_EQ(r.result().state, HeadState::done);
    std::string out;
    EXPECT_TRUE(refused(r.body(out), 400, "bad_request")) << size_line;
  }
}

TEST(RequestBody, RefusesAChunkSizeThatOverflows) {
  Request r(post("Transfer-Encoding: chunked\r\n", "10000000000000000\r\nhello\r\n0\r\n\r\n"));
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  EXPECT_TRUE(refused(r.body(out), 400, "bad_request"));
}

TEST(RequestBody, RefusesChunkDataNotFollowedByCrlf) {
  Request r(post("Transfer-Encoding: chunked\r\n", "3\r\nhelloo\r\n0\r\n\r\n"));
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  EXPECT_TRUE(refused(r.body(out), 400, "bad_request"));
}

// Beast waits for a CRLF past a bare LF; the parser must refuse at once, not stall.
TEST(RequestBody, RefusesABareLfEndingAChunkLineOrTheTrailerSection) {
  for (std::string_view body : {"3\nabc\n0\n\n", "3\r\nabc\r\n0\r\n\n", "3\r\nabc\n0\r\n\r\n",
                                "3\r\nabc\r\n0\r\nX-T: 1\n\r\n"}) {
    Request r(post("Transfer-Encoding: chunked\r\n", std::string(body)));
    ASSERT_EQ(r.result().state, HeadState::done);
    std::string out;
    EXPECT_TRUE(refused(r.body(out), 400, "bad_request")) << testing::PrintToString(body);
  }
}

// Beast buffers a trailer section whole; one larger than the head's limit must fail, not grow.
TEST(RequestBody, TrailerSectionLargerThanTheHeadLimitIs431) {
  RequestLimits limits;
  limits.max_header_bytes = 1024;
  std::string trailers;
  while (trailers.size() <= 2048) trailers += "X-T: " + std::string(100, 'y') + "\r\n";
  Request r(post("Transfer-Encoding: chunked\r\n", "1\r\na\r\n0\r\n" + trailers), limits);
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  BodyResult b = r.body(out);
  EXPECT_TRUE(refused(b, 431, "header_too_large"));

  // Within the limit, the same trailers are read and dropped.
  Request ok(post("Transfer-Encoding: chunked\r\n", "1\r\na\r\n0\r\nX-T: 1\r\n\r\n"), limits);
  out.clear();
  b = ok.body(out);
  EXPECT_TRUE(b.done);
  EXPECT_FALSE(b.failed);
}

TEST(RequestBody, ContentLengthOverTheLimitIsTooLarge) {
  Request r(post("Content-Length: 11\r\n", "hello world"));
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.body(out, 10);
  EXPECT_TRUE(refused(b, 413, "body_too_large"));
  EXPECT_TRUE(out.empty());
}

TEST(RequestBody, ContentLengthAtTheLimitIsAccepted) {
  Request r(post("Content-Length: 10\r\n", "0123456789"));
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.body(out, 10);
  EXPECT_FALSE(b.failed);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(out, "0123456789");
}

TEST(RequestBody, ChunkedBodyCrossingTheLimitIsTooLarge) {
  Request r(post("Transfer-Encoding: chunked\r\n", "6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n"));
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.body(out, 10);
  EXPECT_TRUE(refused(b, 413, "body_too_large"));
  EXPECT_EQ(dechunk(out + "0\r\n\r\n"), "abcdef");  // the first chunk fit
}

TEST(RequestBody, ChunkedBodyAtTheLimitIsAccepted) {
  Request r(post("Transfer-Encoding: chunked\r\n", "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n"));
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.body(out, 10);
  EXPECT_FALSE(b.failed);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(dechunk(out), "abcdefghij");
}

TEST(RequestBody, ABodylessRequestIsDoneAtOnce) {
  Request r(get());
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.body(out);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(b.consumed, 0u);
  EXPECT_TRUE(out.empty());
}

// ---- responses ------------------------------------------------------------------------------

// A response head parsed in one call; owns the text its views point into.
class Response {
 public:
  explicit Response(std::string text, bool head_request = false) : text_(std::move(text)) {
    parser_.start(head_request);
    result_ = parser_.parse_head(text_);
  }
  Response(const Response&) = delete;
  Response& operator=(const Response&) = delete;

  const HeadResult& result() const { return result_; }
  const ResponseHead& head() const { return parser_.head(); }
  ResponseParser& parser() { return parser_; }
  std::string_view rest() const { return std::string_view(text_).substr(result_.consumed); }
  BodyResult body(std::string& out, bool chunked_out) {
    return parser_.parse_body(rest(), out, chunked_out);
  }

 private:
  std::string text_;
  ResponseParser parser_;
  HeadResult result_;
};

TEST(ResponseParser, ContentLengthBodyPassesThrough) {
  Response r("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhelloHTTP/1.1");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().status, 200);
  EXPECT_EQ(r.head().reason, "OK");
  EXPECT_EQ(r.head().version, 11u);
  EXPECT_EQ(r.head().body, BodyKind::length);
  EXPECT_EQ(r.head().content_length, 5u);
  EXPECT_EQ(r.head().fields.find("x-a"), "1");
  EXPECT_TRUE(r.head().keep_alive);
  std::string out;
  const BodyResult b = r.body(out, false);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(b.consumed, 5u);
  EXPECT_EQ(out, "hello");
}

TEST(ResponseParser, EndlessTrailerSectionFails) {
  std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n";
  while (text.size() < 100 * 1024) text += "X-T: " + std::string(100, 'y') + "\r\n";
  Response r(text);
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  EXPECT_TRUE(r.body(out, true).failed);
}

TEST(ResponseParser, BareLfIsRefusedWithoutWaitingForMore) {
  Response whole("HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
  EXPECT_EQ(whole.result().state, HeadState::failed);
  Response partial("HTTP/1.1 200 OK\r\nX-A: 1\nContent-");
  EXPECT_EQ(partial.result().state, HeadState::failed);
  Response crlf("HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-");
  EXPECT_EQ(crlf.result().state, HeadState::need_more);
}

TEST(ResponseParser, StatusCodesOutside100To599AreRefused) {
  for (const char* line : {"HTTP/1.1 000 X", "HTTP/1.1 099 X", "HTTP/1.1 600 X"}) {
    Response r(std::string(line) + "\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(r.result().state, HeadState::failed) << line;
  }
}

TEST(ResponseParser, TransferCodingsOtherThanChunkedAreRefused) {
  for (const char* te : {"gzip", "gzip, chunked", "chunked, chunked", "chunked;x=1"}) {
    Response r(std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: ") + te + "\r\n\r\n");
    EXPECT_EQ(r.result().state, HeadState::failed) << te;
  }
  Response ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n");
  ASSERT_EQ(ok.result().state, HeadState::done);
  EXPECT_EQ(ok.head().body, BodyKind::chunked);
}

TEST(ResponseParser, ContentLengthBodyCanBeReframedAsChunks) {
  Response r("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.body(out, true);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(out, "5\r\nhello\r\n0\r\n\r\n");
}

TEST(ResponseParser, ChunkedBodyIsReframedWhenChunkedOut) {
  Response r(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().body, BodyKind::chunked);
  std::string out;
  const BodyResult b = r.body(out, true);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(b.consumed, r.rest().size());
  EXPECT_EQ(out, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_FALSE(r.head().fields.find("x-t"));
}

TEST(ResponseParser, ChunkedBodyIsDecodedWhenNotChunkedOut) {
  Response r(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.body(out, false);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(out, "hello world");
}

TEST(ResponseParser, BodyUntilCloseIsCompletedByEof) {
  Response r("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nabc");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().body, BodyKind::until_close);
  EXPECT_FALSE(r.head().keep_alive);
  std::string out;
  BodyResult b = r.body(out, false);
  EXPECT_FALSE(b.done);
  EXPECT_EQ(b.consumed, 3u);
  b = r.parser().finish_at_eof(out, false);
  EXPECT_FALSE(b.failed);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(out, "abc");
  EXPECT_TRUE(r.parser().body_done());
}

TEST(ResponseParser, BodyUntilCloseReframedAsChunksEndsWithTheLastChunk) {
  Response r("HTTP/1.0 200 OK\r\n\r\nabc");
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  r.body(out, true);
  const BodyResult b = r.parser().finish_at_eof(out, true);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(out, "3\r\nabc\r\n0\r\n\r\n");
}

TEST(ResponseParser, EofBeforeTheEndOfALengthBodyIsAFailure) {
  Response r("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  r.body(out, false);
  EXPECT_TRUE(refused(r.parser().finish_at_eof(out, false), 502, "upstream_reset"));
}

TEST(ResponseParser, EofAfterACompleteBodyAddsNothing) {
  Response r("HTTP/1.1 204 No Content\r\n\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  const BodyResult b = r.parser().finish_at_eof(out, true);
  EXPECT_FALSE(b.failed);
  EXPECT_TRUE(b.done);
  EXPECT_TRUE(out.empty());
}

TEST(ResponseParser, ResponseToHeadHasNoBodyWhateverItsContentLength) {
  Response r("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", /*head_request=*/true);
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().body, BodyKind::none);
  EXPECT_TRUE(r.head().keep_alive);
  EXPECT_TRUE(r.parser().body_done());
  std::string out;
  const BodyResult b = r.body(out, false);
  EXPECT_TRUE(b.done);
  EXPECT_EQ(b.consumed, 0u);
  EXPECT_TRUE(out.empty());
}

TEST(ResponseParser, NoContentAndNotModifiedHaveNoBody) {
  for (std::string_view status_line : {"HTTP/1.1 204 No Content", "HTTP/1.1 304 Not Modified"}) {
    Response r(std::string(status_line) + "\r\nContent-Length: 5\r\n\r\n");
    ASSERT_EQ(r.result().state, HeadState::done) << status_line;
    EXPECT_EQ(r.head().body, BodyKind::none);
    EXPECT_TRUE(r.parser().body_done());
    EXPECT_TRUE(r.head().keep_alive);
  }
}

TEST(ResponseParser, InterimResponseIsAHeadWithoutBody) {
  Response r("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_EQ(r.head().status, 100);
  EXPECT_EQ(r.head().body, BodyKind::none);
  EXPECT_EQ(r.result().consumed, std::string_view("HTTP/1.1 100 Continue\r\n\r\n").size());
}

TEST(ResponseParser, ConnectionCloseAndTokensAreRead) {
  Response r("HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  EXPECT_FALSE(r.head().keep_alive);
  EXPECT_EQ(r.head().connection_tokens, std::vector<std::string_view>{"X-Hop"});
}

TEST(ResponseParser, MalformedResponsesAreBadGateway) {
  for (std::string_view text :
       {"HTTP/1.1 abc OK\r\n\r\n", "garbage\r\n\r\n", "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: v\r\n\r\n"}) {
    Response r{std::string(text)};
    EXPECT_TRUE(refused(r.result(), 502, "upstream_bad_response")) << text;
  }
}

// RFC 9112 5.2 lets a gateway answer a folded response field with 502; unfolding it in place
// is not possible without copying the head.
TEST(ResponseParser, RefusesObsoleteLineFolding) {
  EXPECT_TRUE(
      refused(Response("HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n").result(),
              502, "upstream_bad_response"));
  EXPECT_TRUE(refused(Response("HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\n\r\n").result(), 502,
                      "upstream_bad_response"));
}

TEST(ResponseParser, MalformedChunkedBodyIsBadGateway) {
  Response r("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n");
  ASSERT_EQ(r.result().state, HeadState::done);
  std::string out;
  EXPECT_TRUE(refused(r.body(out, true), 502, "upstream_bad_response"));
}

// The gateway calls parse_head again with the grown buffer after every read: a head that
// arrives in pieces must parse the same as one that arrives whole.
TEST(ResponseParser, ByteAtATimeGivesTheSameHeadAsAllAtOnce) {
  const std::string text =
      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: x-hop\r\nX-A: 1\r\n\r\nok";
  Response whole(text);
  ASSERT_EQ(whole.result().state, HeadState::done);

  ResponseParser p;
  p.start(false);
  HeadResult r;
  size_t fed = 0;
  while (fed < text.size()) {
    r = p.parse_head(std::string_view(text).substr(0, ++fed));
    if (r.state != HeadState::need_more) break;
    EXPECT_EQ(r.consumed, 0u);
  }
  ASSERT_EQ(r.state, HeadState::done) << "failed at byte " << fed;
  EXPECT_EQ(r.consumed, whole.result().consumed);
  EXPECT_EQ(p.head().status, 201);
  EXPECT_EQ(p.head().reason, "Created");
  EXPECT_EQ(p.head().fields.size(), whole.head().fields.size());
  EXPECT_EQ(p.head().connection_tokens, whole.head().connection_tokens);
  EXPECT_EQ(p.head().body, BodyKind::length);
}

// A first read often holds the status line and some fields: Beast would consume those, and the
// next call, which starts again at the status line, must still parse.
TEST(ResponseParser, HeadSplitAfterSomeFieldsParsesTheSame) {
  const std::string text = "HTTP/1.1 201 Created\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok";
  ResponseParser p;
  p.start(false);
  const HeadResult first = p.parse_head(std::string_view(text).substr(0, 44));
  EXPECT_EQ(first.state, HeadState::need_more);
  EXPECT_EQ(first.consumed, 0u);
  const HeadResult r = p.parse_head(text);
  ASSERT_EQ(r.state, HeadState::done);
  EXPECT_EQ(r.consumed, text.size() - 2);
  EXPECT_EQ(p.head().status, 201);
  EXPECT_EQ(p.head().fields.find("x-a"), "1");
  EXPECT_EQ(p.head().content_length, 2u);
}

TEST(ResponseParser, RefusesAHeadLargerThan64KiB) {
  Response r("HTTP/1.1 200 OK\r\nX-Pad: " + std::string(70 * 1024, 'x'));
  EXPECT_TRUE(refused(r.result(), 502, "upstream_bad_response"));
}

TEST(ResponseParser, EofBeforeAnyHeadIsAFailure) {
  ResponseParser p;
  p.start(false);
  std::string out;
  EXPECT_TRUE(refused(p.finish_at_eof(out, false), 502, "upstream_reset"));
}

TEST(ResponseParser, AsksForMoreUntilTheHeadIsComplete) {
  EXPECT_EQ(Response("").result().state, HeadState::need_more);
  EXPECT_EQ(Response("HTTP/1.1 200 OK\r\n").result().state, HeadState::need_more);
  EXPECT_EQ(Response("HTTP/1.1 200 OK\r\nX-A: 1\r\n\r").result().state, HeadState::need_more);
}

}  // namespace
}  // namespace basalt::http
