// Strict HTTP/1.1 parsing on top of Boost.Beast's basic_parser. See h1_parser.h for the contract.
#include "http/h1_parser.h"

#include <algorithm>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <optional>

namespace basalt::http {
namespace {

namespace bhttp = boost::beast::http;
using boost::beast::error_code;
using bsv = boost::beast::string_view;

constexpr ParseFailure kMalformed{400, "bad_request", "malformed request"};
constexpr ParseFailure kVersionNotSupported{505, "bad_request", "HTTP version not supported"};
constexpr ParseFailure kBadResponse{502, "upstream_bad_response", "malformed upstream response"};
constexpr ParseFailure kBodyTooLarge{413, "body_too_large", "request body too large"};
constexpr size_t kMaxResponseHead = 64 * 1024;

bool is_tchar(unsigned char c) {
  static constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         kExtra.find(static_cast<char>(c)) != std::string_view::npos;
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each comma-separated element, OWS-trimmed; empty elements are skipped
// (RFC 9110 5.6.1 lets recipients ignore them).
template <class Fn>
void for_each_element(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = trim_ows(list.substr(0, comma));
    if (!item.empty()) fn(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char hex[20];
  int n = 0;
  for (size_t v = data.size(); v != 0; v >>= 4) hex[n++] = "0123456789abcdef"[v & 0xf];
  while (n > 0) out.push_back(hex[--n]);
  out.append("\r\n");
  out.append(data);
  out.append("\r\n");
}

// Connection: close / keep-alive set the persistence; other tokens name hop-by-hop fields.
template <class Head>
void read_connection_field(Head& head, std::string_view value, bool& close, bool& keep) {
  for_each_element(value, [&](std::string_view token) {
    if (iequals(token, "close"))
      close = true;
    else if (iequals(token, "keep-alive"))
      keep = true;
    else
      head.connection_tokens.push_back(token);
  });
}

// Transfer-Encoding as RFC 9112 6.1 sees it, accumulated over every TE field of a message.
struct TransferCodings {
  bool present = false;
  bool chunked_last = false;
  int chunked_count = 0;
  bool unknown = false;
  bool malformed = false;

  void add(std::string_view value) {
    present = true;
    bool any = false;
    for_each_element(value, [&](std::string_view coding) {
      any = true;
      bool chunked = iequals(coding, "chunked");
      if (chunked)
        ++chunked_count;
      else if (is_token(coding))
        unknown = true;
      else
        malformed = true;  // parameters or junk; we implement no coding that takes any
      chunked_last = chunked;
    });
    if (!any) malformed = true;
  }
};

// Whether a line of `head` starts with whitespace: obs-fold, which RFC 9112 5.2 lets a gateway
// answer with 502. Beast would unfold it into a buffer of its own that is gone once put()
// returns, leaving the field's value view dangling.
bool has_line_folding(std::string_view head) {
  for (size_t i = head.find("\r\n"); i != std::string_view::npos; i = head.find("\r\n", i + 2)) {
    if (i + 2 < head.size() && (head[i + 2] == ' ' || head[i + 2] == '\t')) return true;
  }
  return false;
}

class BeastRequest final : public bhttp::basic_parser<true> {
 public:
  // Where the chunked decoder stands, for the chunk-header check in parse_body.
  bool at_chunk_header = true;
  bool in_trailers = false;
  RequestHead* head = nullptr;
  std::string* out = nullptr;
  std::optional<ParseFailure> failure;
  TransferCodings te;
  int host_count = 0;
  int cl_count = 0;
  bool conn_close = false, conn_keep = false;

  void fail(error_code& ec, ParseFailure f) {
    if (!failure) failure = f;
    ec = bhttp::error::bad_value;
  }

 private:
  void on_request_impl(bhttp::verb, bsv method, bsv target, int version, error_code& ec) override {
    head->method = method;
    head->target = target;
    head->version = static_cast<unsigned>(version);
    if (version != 10 && version != 11) fail(ec, kVersionNotSupported);
  }

  void on_response_impl(int, bsv, int, error_code& ec) override {
    ec = bhttp::error::bad_version;  // never called for a request parser
  }

  void on_field_impl(bhttp::field f, bsv name, bsv value, error_code& ec) override {
    // Trailer fields are dropped: they would view into a later buffer than the head's.
    if (is_header_done()) return;
    head->fields.add(name, value);
    switch (f) {
      case bhttp::field::host:
        ++host_count;
        head->host = value;
        break;
      case bhttp::field::content_length:
        ++cl_count;
        if (value.empty() || value.size() > 18 ||
            value.find_first_not_of("0123456789") != std::string_view::npos)
          fail(ec, {400, "bad_request", "invalid Content-Length"});
        break;
      case bhttp::field::transfer_encoding:
        te.add(value);
        break;
      case bhttp::field::connection:
        read_connection_field(*head, value, conn_close, conn_keep);
        break;
      case bhttp::field::expect:
        // RFC 9110 10.1.1: an HTTP/1.0 request's expectation is ignored (no 1xx for it).
        if (head->version == 10) break;
        if (iequals(trim_ows(value), "100-continue"))
          head->expect_continue = true;
        else
          fail(ec, {417, "bad_request", "unsupported expectation"});
        break;
      default:
        break;
    }
  }

  void on_header_impl(error_code& ec) override {
    if (te.present && cl_count > 0)
      return fail(ec, {400, "bad_request", "both Content-Length and Transfer-Encoding"});
    if (te.present &&
        (te.malformed || te.chunked_count > 1 || (te.chunked_count && !te.chunked_last)))
      return fail(ec, {400, "bad_request", "chunked must be the final transfer coding"});
    if (te.present && te.unknown)
      return fail(ec, {501, "unsupported_transfer_coding", "unsupported transfer coding"});
    if (host_count > 1) return fail(ec, {400, "bad_request", "more than one Host field"});
    if (host_count == 0 && head->version == 11)
      return fail(ec, {400, "bad_request", "missing Host field"});

    if (te.present) {
      head->body = BodyKind::chunked;
    } else if (cl_count > 0) {
      head->content_length = content_length().value_or(0);
      head->body = head->content_length > 0 ? BodyKind::length : BodyKind::none;
    }
    head->keep_alive = head->version == 11 ? !conn_close : (conn_keep && !conn_close);
    // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means the framing may have been
    // garbled by an intermediary; the message is read as chunked and the connection closed.
    if (te.present && head->version == 10) head->keep_alive = false;
  }

  void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}

  std::size_t on_body_impl(bsv body, error_code&) override {
    out->append(body);
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t size, bsv, error_code&) override {
    at_chunk_header = false;
    in_trailers = size == 0;
  }

  std::size_t on_chunk_body_impl(std::uint64_t remain, bsv body, error_code&) override {
    append_chunk(*out, body);
    if (remain == body.size()) at_chunk_header = true;  // this chunk's data is complete
    return body.size();
  }

  void on_finish_impl(error_code&) override {
    if (head->body == BodyKind::chunked) out->append("0\r\n\r\n");
  }
};

constexpr size_t kMaxChunkHeaderLine = 4096;

// Beast keeps waiting, instead of failing, on a chunk extension whose quoted string runs past
// the end of its line (it wants a closing quote) and on a chunk-size line or trailer section
// ended by a bare LF (it wants a CRLF). A chunk-size line ends at its first CRLF (qdtext
// excludes CR and LF), so when the decoder waits for more while a bare LF or a complete line
// is buffered, or the line grows past any sane length, the chunk header is malformed.
// Whether an LF at or after `from` in `s` lacks its CR (the CR may stand before `from`).
bool has_bare_lf(std::string_view s, size_t from = 0) {
  for (size_t i = s.find('\n', from); i != std::string_view::npos; i = s.find('\n', i + 1))
    if (i == 0 || s[i - 1] != '\r') return true;
  return false;
}

bool stalled_on_bad_chunk_header(const BeastRequest& p, std::string_view rest) {
  if (!p.at_chunk_header && !p.in_trailers) return false;
  // Chunk-size lines and trailer fields end in CRLF; Beast waits for one past a bare LF.
  if (has_bare_lf(rest)) return true;
  if (p.in_trailers) return false;
  if (rest.substr(0, 2) == "\r\n") rest.remove_prefix(2);  // the CRLF closing the last chunk
  size_t eol = rest.find("\r\n");
  if (eol == std::string_view::npos) return rest.size() > kMaxChunkHeaderLine;
  // The last chunk ("0", maybe with extensions) is decoded together with the trailer section
  // after it, so Beast rightly waits past its line.
  std::string_view line = rest.substr(0, eol);
  size_t zeros = line.find_first_not_of('0');
  bool last_chunk = zeros != 0 && (zeros == std::string_view::npos || line[zeros] == ';' ||
                                   line[zeros] == ' ' || line[zeros] == '\t');
  return !last_chunk;
}

class BeastResponse final : public bhttp::basic_parser<false> {
 public:
  ResponseHead* head = nullptr;
  std::string* out = nullptr;
  bool chunked_out = false;
  bool conn_close = false, conn_keep = false;
  TransferCodings te;

 private:
  void on_request_impl(bhttp::verb, bsv, bsv, int, error_code& ec) override {
    ec = bhttp::error::bad_version;  // never called for a response parser
  }

  void on_response_impl(int status, bsv reason, int version, error_code& ec) override {
    head->status = status;
    head->reason = reason;
    head->version = static_cast<unsigned>(version);
    if (version != 10 && version != 11) ec = bhttp::error::bad_version;
    // RFC 9110 15: a status code is 100 to 599; Beast takes any three digits.
    if (status < 100 || status > 599) ec = bhttp::error::bad_status;
  }

  void on_field_impl(bhttp::field f, bsv name, bsv value, error_code&) override {
    if (is_header_done()) return;  // a trailer field: dropped, as for requests
    head->fields.add(name, value);
    if (f == bhttp::field::connection) read_connection_field(*head, value, conn_close, conn_keep);
    if (f == bhttp::field::transfer_encoding) te.add(value);
  }

  void on_header_impl(error_code& ec) override {
    // Transfer-Encoding is hop-by-hop and the gateway decodes no coding but chunked: a body in
    // another coding (gzip, say) would reach the client undecoded and unlabelled. RFC 9112
    // 6.1's rules for the request apply: at most one chunked, and it comes last.
    if (te.present && (te.unknown || te.malformed || te.chunked_count != 1 || !te.chunked_last)) {
      ec = bhttp::error::bad_transfer_encoding;
      return;
    }
    if (is_done() || (head->status >= 100 && head->status < 200) || head->status == 204 ||
        head->status == 304) {
      head->body = BodyKind::none;
    } else if (chunked()) {
      head->body = BodyKind::chunked;
    } else if (content_length()) {
      head->content_length = *content_length();
      head->body = BodyKind::length;
    } else {
      head->body = BodyKind::until_close;
    }
    bool persistent = head->version == 11 ? !conn_close : (conn_keep && !conn_close);
    head->keep_alive = persistent && head->body != BodyKind::until_close;
  }

  void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}

  std::size_t on_body_impl(bsv body, error_code&) override {
    if (chunked_out)
      append_chunk(*out, body);
    else
      out->append(body);
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, bsv, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, bsv body, error_code& ec) override {
    return on_body_impl(body, ec);
  }

  void on_finish_impl(error_code&) override {
    if (chunked_out) out->append("0\r\n\r\n");
  }
};

}  // namespace

void RequestHead::clear() {
  method = target = host = {};
  version = 11;
  fields.clear();
  body = BodyKind::none;
  content_length = 0;
  keep_alive = true;
  expect_continue = false;
  connection_tokens.clear();
}

void ResponseHead::clear() {
  status = 0;
  reason = {};
  version = 11;
  fields.clear();
  body = BodyKind::none;
  content_length = 0;
  keep_alive = true;
  connection_tokens.clear();
}

// ---- HeadScanner ----------------------------------------------------------------------------

HeadResult HeadScanner::scan(std::string_view in) {
  auto failed = [](int status, std::string_view reason, std::string_view detail) {
    return HeadResult{HeadState::failed, 0, ParseFailure{status, reason, detail}};
  };

  for (; pos_ < in.size(); ++pos_) {
    if (pos_ >= limits_.max_header_bytes)
      return failed(431, "header_too_large", "request header section too large");
    const auto c = static_cast<unsigned char>(in[pos_]);

    if (c == '\r') {
      if (pos_ + 1 >= in.size()) return {};
      if (in[pos_ + 1] != '\n') return failed(400, "bad_request", "bare CR in request head");
      if (pos_ == line_start_) {
        if (line_start_ == 0) return failed(400, "bad_request", "empty request line");
        return HeadResult{HeadState::done, pos_ + 2, {}};
      }
      if (line_start_ != 0 && ++fields_ > limits_.max_header_count)
        return failed(431, "too_many_headers", "too many header fields");
      ++pos_;
      line_start_ = pos_ + 1;
      continue;
    }
    if (c == '\n') return failed(400, "bad_request", "bare LF in request head");
    if (c == 0) return failed(400, "bad_request", "NUL in request head");
    if (pos_ == line_start_ && (c == ' ' || c == '\t'))
      return failed(400, "bad_request", "obsolete line folding or leading whitespace");
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return failed(400, "bad_request", "control character in request head");
  }
  if (pos_ >= limits_.max_header_bytes)
    return failed(431, "header_too_large", "request header section too large");
  return {};
}

// ---- RequestParser --------------------------------------------------------------------------

struct RequestParser::Impl {
  explicit Impl(RequestLimits l) : limits(l), scanner(l) {}
  RequestLimits limits;
  HeadScanner scanner;
  RequestHead head;
  std::optional<BeastRequest> beast;
  std::string* sink = nullptr;
  bool length_over_limit = false;
};

namespace {

// True when the request line ends in a well-formed "HTTP/D.D" that Beast refused only for its
// value (2.0, 1.2, 0.9): such a request is answered 505, a malformed one 400.
bool names_an_http_version(std::string_view head) {
  std::string_view line = head.substr(0, head.find('\r'));
  // method SP target SP version: another space (in the target) makes the line malformed.
  if (std::count(line.begin(), line.end(), ' ') != 2) return false;
  constexpr std::string_view kPrefix = " HTTP/";
  if (line.size() < kPrefix.size() + 3) return false;
  std::string_view v = line.substr(line.size() - kPrefix.size() - 3);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  return v.substr(0, kPrefix.size()) == kPrefix && digit(v[6]) && v[7] == '.' && digit(v[8]);
}

}  // namespace

RequestParser::RequestParser(RequestLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
RequestParser::~RequestParser() = default;

void RequestParser::start() {
  impl_->scanner.reset();
  impl_->head.clear();
  impl_->length_over_limit = false;
  auto& p = impl_->beast.emplace();
  p.head = &impl_->head;
  p.header_limit(impl_->limits.max_header_bytes + 4);
  p.body_limit(boost::none);
  p.eager(true);
}

HeadResult RequestParser::parse_head(std::string_view in) {
  HeadResult scan = impl_->scanner.scan(in);
  if (scan.state != HeadState::done) return scan;

  auto& p = *impl_->beast;
  std::string unused;
  p.out = &unused;
  p.eager(false);
  error_code ec;
  size_t used = p.put(boost::asio::buffer(in.data(), scan.consumed), ec);
  p.eager(true);
  if (ec == bhttp::error::bad_version && names_an_http_version(in))
    return {HeadState::failed, 0, kVersionNotSupported};
  if (ec || !p.is_header_done() || used != scan.consumed)
    return {HeadState::failed, 0, p.failure.value_or(kMalformed)};
  return scan;
}

const RequestHead& RequestParser::head() const { return impl_->head; }

// Beast compares a Content-Length with its body limit only while reading the head, before the
// route (and so the limit) is known; a length body is checked here instead. Chunked bodies are
// checked by Beast chunk by chunk.
void RequestParser::set_body_limit(uint64_t limit) {
  impl_->length_over_limit =
      impl_->head.body == BodyKind::length && impl_->head.content_length > limit;
  impl_->beast->body_limit(limit);
}

BodyResult RequestParser::parse_body(std::string_view in, std::string& out) {
  auto& p = *impl_->beast;
  BodyResult r;
  if (p.is_done()) {
    r.done = true;
    return r;
  }
  if (impl_->length_over_limit) {
    r.failed = true;
    r.failure = kBodyTooLarge;
    return r;
  }
  p.out = &out;
  error_code ec;
  r.consumed = p.put(boost::asio::buffer(in.data(), in.size()), ec);
  if (ec == bhttp::error::need_more) {
    ec = {};
    std::string_view rest = in.substr(r.consumed);
    if (impl_->head.body == BodyKind::chunked && stalled_on_bad_chunk_header(p, rest)) {
      r.failed = true;
      r.failure = {400, "bad_request", "malformed chunk header"};
      return r;
    }
    // Beast buffers the last chunk and its trailer section whole before it decodes them, so
    // that section is held to the head's size limit, or a client could make the read buffer
    // grow without end.
    if (rest.size() > impl_->limits.max_header_bytes) {
      r.failed = true;
      r.failure = {431, "header_too_large", "trailer section too large"};
      return r;
    }
  }
  if (ec == bhttp::error::body_limit) {
    r.failed = true;
    r.failure = kBodyTooLarge;
  } else if (ec) {
    r.failed = true;
    r.failure = p.failure.value_or(ParseFailure{400, "bad_request", "malformed request body"});
  }
  r.done = p.is_done();
  return r;
}

bool RequestParser::body_done() const { return impl_->beast && impl_->beast->is_done(); }

// ---- ResponseParser -------------------------------------------------------------------------

struct ResponseParser::Impl {
  ResponseHead head;
  std::optional<BeastResponse> beast;
  size_t scanned = 0;  // bytes searched for the end of the head so far
};

ResponseParser::ResponseParser() : impl_(std::make_unique<Impl>()) {}
ResponseParser::~ResponseParser() = default;

void ResponseParser::start(bool head_request) {
  impl_->head.clear();
  impl_->scanned = 0;
  auto& p = impl_->beast.emplace();
  p.head = &impl_->head;
  p.header_limit(kMaxResponseHead);
  p.body_limit(boost::none);
  p.skip(head_request);
}

// Beast consumes the status line and complete fields of a partial head, while the caller
// presents the whole buffer again on the next call; so Beast sees the head only once it is whole.
HeadResult ResponseParser::parse_head(std::string_view in) {
  const size_t from = impl_->scanned > 3 ? impl_->scanned - 3 : 0;
  const size_t end = in.find("\r\n\r\n", from);
  // A bare LF ends no line here: refuse it at once, rather than wait for a CRLF CRLF that an
  // upstream speaking bare LFs never sends (and then blame the upstream for closing).
  if (has_bare_lf(in.substr(0, end == std::string_view::npos ? in.size() : end), from))
    return {HeadState::failed, 0, kBadResponse};
  if (end == std::string_view::npos) {
    impl_->scanned = in.size();
    if (in.size() > kMaxResponseHead) return {HeadState::failed, 0, kBadResponse};
    return {};
  }
  const size_t head_size = end + 4;
  if (has_line_folding(in.substr(0, head_size))) return {HeadState::failed, 0, kBadResponse};

  auto& p = *impl_->beast;
  std::string unused;
  p.out = &unused;
  p.eager(false);
  error_code ec;
  size_t used = p.put(boost::asio::buffer(in.data(), head_size), ec);
  p.eager(true);
  if (ec || !p.is_header_done() || used != head_size) return {HeadState::failed, 0, kBadResponse};
  return {HeadState::done, used, {}};
}

const ResponseHead& ResponseParser::head() const { return impl_->head; }

BodyResult ResponseParser::parse_body(std::string_view in, std::string& out, bool chunked_out) {
  auto& p = *impl_->beast;
  BodyResult r;
  if (p.is_done()) {
    r.done = true;
    return r;
  }
  p.out = &out;
  p.chunked_out = chunked_out;
  error_code ec;
  r.consumed = p.put(boost::asio::buffer(in.data(), in.size()), ec);
  if (ec == bhttp::error::need_more) {
    ec = {};
    // Only a chunk header or the trailer section stays unconsumed; neither may grow past the
    // head's limit.
    if (in.size() - r.consumed > kMaxResponseHead) ec = bhttp::error::header_limit;
  }
  if (ec) {
    r.failed = true;
    r.failure = kBadResponse;
  }
  r.done = p.is_done();
  return r;
}

BodyResult ResponseParser::finish_at_eof(std::string& out, bool chunked_out) {
  auto& p = *impl_->beast;
  BodyResult r;
  if (p.is_done()) {
    r.done = true;
    return r;
  }
  error_code ec;
  if (p.is_header_done()) {
    p.out = &out;
    p.chunked_out = chunked_out;
    p.put_eof(ec);
  } else {
    ec = bhttp::error::partial_message;  // put_eof requires that some bytes were parsed
  }
  if (ec) {
    r.failed = true;
    r.failure = {502, "upstream_reset", "upstream closed the connection mid-response"};
  }
  r.done = p.is_done();
  return r;
}

bool ResponseParser::body_done() const { return impl_->beast && impl_->beast->is_done(); }

}  // namespace basalt::http
