// A chunk-size line ends at its first CRLF: an extension whose quoted string runs past it is
// refused at once instead of waiting for a closing quote (h1_parser.cc,
// stalled_on_bad_chunk_header).
#include <gtest/gtest.h>

#include "http/h1_parser.h"

namespace basalt::http {
namespace {

BodyResult parse_chunked_body(const std::string& body, std::string& out) {
  static const std::string head =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  RequestParser p({});
  p.start();
  EXPECT_EQ(p.parse_head(head).state, HeadState::done);
  p.set_body_limit(1 << 20);
  return p.parse_body(body, out);
}

TEST(ChunkHeader, UnterminatedQuotedExtensionIsRefusedAtTheEndOfTheLine) {
  std::string out;
  auto r = parse_chunked_body("5;x=\"unterminated\r\nhello\r\n0\r\n\r\n", out);
  EXPECT_TRUE(r.failed);
  EXPECT_EQ(r.failure.status, 400);
}

TEST(ChunkHeader, OverlongChunkSizeLineIsRefused) {
  std::string out;
  auto r = parse_chunked_body("5;x=\"" + std::string(5000, 'a'), out);
  EXPECT_TRUE(r.failed);
  EXPECT_EQ(r.failure.status, 400);
}

TEST(ChunkHeader, LastChunkWaitsForItsTrailers) {
  std::string out;
  auto r = parse_chunked_body("3\r\nabc\r\n0\r\nX-Trailer: 1\r\n", out);
  EXPECT_FALSE(r.failed);
  EXPECT_FALSE(r.done);
}

}  // namespace
}  // namespace basalt::http
