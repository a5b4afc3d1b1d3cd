// Strict HTTP/1.1 message parsing for both sides of the proxy.
//
// RequestParser reads a downstream request: a byte-level scan of the head (limits, bare CR/LF,
// NUL and control bytes, obs-fold) runs first, then Boost.Beast's parser, then the framing rules
// of RFC 9112 that Beast leaves open (Transfer-Encoding other than a final "chunked",
// Content-Length lists, CL with TE, Host count). Any violation is a ParseFailure carrying the
// status to answer and the rejection reason; the caller answers it and closes the connection.
//
// ResponseParser reads an upstream response head and body.
//
// Both deliver the body re-framed for the other side into a caller-owned string: Content-Length
// bodies as they are, chunked bodies as fresh chunks (extensions and trailers dropped).
//
//   http::RequestParser p(limits);
//   p.start();
//   for (;;) {
//     auto r = p.parse_head(buffer);             // consumes nothing until the head is complete
//     if (r.state == HeadState::need_more) { read more; continue; }
//     if (r.state == HeadState::failed) { reply(r.failure); close; }
//     buffer.consume(r.consumed); break;
//   }
//   const RequestHead& head = p.head();          // views into `buffer`: keep it unmoved
//   p.set_body_limit(route_limit);
//   size_t n = p.parse_body(buffer, out);        // appends re-framed body bytes to `out`
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/fields.h"

namespace basalt::http {

enum class BodyKind : uint8_t { none, length, chunked, until_close };

// Why a message was refused: the status to answer with, the rejection reason (a metric label,
// see observe::Reject) and a one-line detail safe to show the client.
struct ParseFailure {
  int status = 400;
  std::string_view reason = "bad_request";
  std::string_view detail;
};

struct RequestHead {
  std::string_view method;
  std::string_view target;  // as received
  unsigned version = 11;    // 10 or 11
  FieldList fields;
  std::string_view host;  // the Host field as received (may carry a port); empty if none
  BodyKind body = BodyKind::none;
  uint64_t content_length = 0;
  bool keep_alive = true;
  bool expect_continue = false;
  // Header names listed in Connection other than close/keep-alive: not forwarded.
  std::vector<std::string_view> connection_tokens;

  void clear();
};

struct ResponseHead {
  int status = 0;
  std::string_view reason;
  unsigned version = 11;
  FieldList fields;
  BodyKind body = BodyKind::none;
  uint64_t content_length = 0;
  bool keep_alive = true;
  std::vector<std::string_view> connection_tokens;

  void clear();
};

enum class HeadState : uint8_t { need_more, done, failed };

struct HeadResult {
  HeadState state = HeadState::need_more;
  size_t consumed = 0;  // bytes of the head, valid when done
  ParseFailure failure;
};

struct BodyResult {
  size_t consumed = 0;  // input bytes used
  bool done = false;    // the message is complete
  bool failed = false;  // see failure
  ParseFailure failure;
};

struct RequestLimits {
  uint32_t max_header_bytes = 32 * 1024;
  uint32_t max_header_count = 100;
};

class RequestParser {
 public:
  explicit RequestParser(RequestLimits limits);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Resets for the next request on the connection.
  void start();

  // Looks for a complete head at the front of `in`. need_more: nothing consumed, call again with
  // more bytes (the scan resumes where it stopped). done: head() is valid and views into `in`.
  HeadResult parse_head(std::string_view in);

  const RequestHead& head() const;

  // Body bytes beyond `limit` fail with 413 (reason body_too_large).
  void set_body_limit(uint64_t limit);

  // Parses body bytes from `in`, appending them re-framed (chunked stays chunked) to `out`.
  BodyResult parse_body(std::string_view in, std::string& out);

  bool body_done() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class ResponseParser {
 public:
  ResponseParser();
  ~ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // head_request: the request was HEAD, so the response has no body whatever it says.
  void start(bool head_request);

  HeadResult parse_head(std::string_view in);
  const ResponseHead& head() const;

  // Appends body bytes to `out`; `chunked_out` re-frames them as chunks for the client.
  BodyResult parse_body(std::string_view in, std::string& out, bool chunked_out);

  // The upstream closed the connection: completes an until-close body, fails any other.
  BodyResult finish_at_eof(std::string& out, bool chunked_out);

  bool body_done() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The byte-level checks on a request head, exposed for tests and the fuzz target. Resumable:
// call scan() with the whole buffer each time; it continues from where it stopped.
class HeadScanner {
 public:
  explicit HeadScanner(RequestLimits limits) : limits_(limits) {}
  void reset() { pos_ = 0, line_start_ = 0, fields_ = 0; }
  HeadResult scan(std::string_view in);

 private:
  RequestLimits limits_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  uint32_t fields_ = 0;
};

}  // namespace basalt::http
