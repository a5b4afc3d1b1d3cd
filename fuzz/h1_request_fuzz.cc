// libFuzzer target for the HTTP/1.1 parsers (http/h1_parser.h), run under ASan and UBSan.
//
// The first input byte steers the run; the rest is the message. The message is fed to a
// RequestParser in two reads split at a point derived from that byte, as a slow client would
// send it, so the resumable head scan and Beast's partial chunk parsing are both exercised. If
// a head comes out, the bytes after it are parsed as body under a 1 MiB limit, again in two
// reads. The same message then goes through a ResponseParser, finished by an EOF.
//
//   cmake -B build-fuzz -DBASALT_FUZZ=ON -DBASALT_TESTS=OFF -DCMAKE_CXX_COMPILER=clang++ \
//     -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined"
//   ninja -C build-fuzz fuzz_h1_request && build-fuzz/fuzz_h1_request fuzz/corpus/h1_request
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/h1_parser.h"

namespace {

using namespace basalt::http;

constexpr uint64_t kBodyLimit = 1024 * 1024;

// An invariant the parsers promise whatever the input. Traps rather than asserts so that it
// still fires in a build with NDEBUG.
void check(bool holds) {
  if (!holds) __builtin_trap();
}

// Views the parser hands out must point into the buffer it was given.
bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// A failure must name a 4xx/5xx status and a reason to count it under.
void check_failure(const ParseFailure& f) {
  check(f.status >= 400 && f.status <= 599);
  check(!f.reason.empty());
}

// How the first input byte steers one run.
struct Steering {
  size_t split = 0;  // length of the first read
  bool head_request = false;
  bool chunked_out = false;
};

Steering steer(uint8_t b, size_t message_size) {
  return {.split = message_size * (b >> 2) / 63,
          .head_request = (b & 1) != 0,
          .chunked_out = (b & 2) != 0};
}

// Feeds the head in two reads: a prefix, then the whole buffer (the caller keeps unconsumed
// bytes and presents them again with the new ones).
template <class Parser>
HeadResult parse_head_in_two_reads(Parser& p, std::string_view msg, size_t split) {
  HeadResult r = p.parse_head(msg.substr(0, split));
  if (r.state == HeadState::need_more) {
    check(r.consumed == 0);
    r = p.parse_head(msg);
  }
  if (r.state != HeadState::done) check(r.consumed == 0);
  if (r.state == HeadState::failed) check_failure(r.failure);
  if (r.state == HeadState::done) check(r.consumed > 0 && r.consumed <= msg.size());
  return r;
}

// Feeds `body` in two reads split at `split`; `parse(view, out)` is the parser's parse_body.
template <class Parse>
BodyResult parse_body_in_two_reads(std::string_view body, size_t split, std::string& out,
                                   Parse&& parse) {
  BodyResult r = parse(body.substr(0, split), out);
  check(r.consumed <= split);
  if (r.done || r.failed) return r;

  const size_t used = r.consumed;
  r = parse(body.substr(used), out);
  check(r.consumed <= body.size() - used);
  r.consumed += used;
  return r;
}

void fuzz_request(std::string_view msg, const Steering& s) {
  RequestParser p({.max_header_bytes = 16 * 1024, .max_header_count = 64});
  p.start();
  const HeadResult h = parse_head_in_two_reads(p, msg, s.split);
  if (h.state != HeadState::done) return;

  const RequestHead& head = p.head();
  check(!head.method.empty());
  check(head.version == 10 || head.version == 11);
  check(inside(head.method, msg) && inside(head.target, msg) && inside(head.host, msg));
  for (const Field& f : head.fields.all()) check(inside(f.name, msg) && inside(f.value, msg));
  for (std::string_view token : head.connection_tokens) check(inside(token, msg));

  p.set_body_limit(kBodyLimit);
  const std::string_view body = msg.substr(h.consumed);
  std::string out;
  const BodyResult b = parse_body_in_two_reads(
      body, body.size() * s.split / (msg.size() + 1), out,
      [&](std::string_view in, std::string& o) { return p.parse_body(in, o); });
  check(b.consumed <= body.size());
  if (b.failed) {
    check_failure(b.failure);
    check(b.failure.status == 400 || b.failure.status == 413);
    return;
  }
  if (b.done && head.body == BodyKind::length) check(out.size() == head.content_length);
  if (b.done && head.body == BodyKind::chunked) check(std::string_view(out).ends_with("0\r\n\r\n"));
  if (head.body == BodyKind::none) check(b.done && out.empty());
}

void fuzz_response(std::string_view msg, const Steering& s) {
  ResponseParser p;
  p.start(s.head_request);
  const HeadResult h = parse_head_in_two_reads(p, msg, s.split);
  if (h.state != HeadState::done) return;

  const ResponseHead& head = p.head();
  check(head.status >= 0 && head.status <= 999);
  check(head.version == 10 || head.version == 11);
  check(inside(head.reason, msg));
  for (const Field& f : head.fields.all()) check(inside(f.name, msg) && inside(f.value, msg));
  if (s.head_request) check(head.body == BodyKind::none);

  const std::string_view body = msg.substr(h.consumed);
  std::string out;
  BodyResult b = parse_body_in_two_reads(
      body, body.size() * s.split / (msg.size() + 1), out,
      [&](std::string_view in, std::string& o) { return p.parse_body(in, o, s.chunked_out); });
  check(b.consumed <= body.size());
  if (b.failed) {
    check(b.failure.status == 502);
    return;
  }
  if (!b.done) {
    b = p.finish_at_eof(out, s.chunked_out);
    check(b.done != b.failed);
    check(b.done || head.body != BodyKind::until_close);
  }
  if (b.done && head.body != BodyKind::none && s.chunked_out)
    check(std::string_view(out).ends_with("0\r\n\r\n"));
  if (b.done && head.body == BodyKind::length && !s.chunked_out)
    check(out.size() == head.content_length);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view msg(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Steering s = steer(data[0], msg.size());
  fuzz_request(msg, s);
  fuzz_response(msg, s);
  return 0;
}
