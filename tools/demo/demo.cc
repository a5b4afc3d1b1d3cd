// basalt-demo: a small HTTP/1.1 service to put behind basalt in the quickstart, the integration
// tests and the benchmarks. By default it echoes what it received as JSON; query parameters make
// it slow, broken or odd on purpose, so a test can provoke an upstream failure without writing a
// second program.
//
//   basalt-demo --listen 127.0.0.1:0 --name users-1      # prints "listening 127.0.0.1:PORT"
//   curl -i 'http://127.0.0.1:PORT/any/path?status=503&delay=200&header=retry-after:1'
//
// Query parameters (combinable, unknown ones ignored):
//   status=NNN        answer with that status (200..599); 204 and 304 carry no body
//   delay=MS          wait that long before answering
//   size=N            body is N bytes of 'x' (text/plain) instead of the JSON echo
//   chunked=1         send the body with Transfer-Encoding: chunked, chunks of at most 4 KiB
//   drop=1            close the connection without answering
//   drop=mid          send the head with a Content-Length larger than what follows, send half of
//                     the body, then close
//   header=Name:Value add a response header (repeatable)
//   close=1           answer with Connection: close and close afterwards
// Every answer carries `x-demo-service: NAME`.
//
// One thread, one coroutine per connection. Exits with status 0 on SIGINT or SIGTERM.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// GCC 12 reports -Wmismatched-new-delete inside Asio's coroutine frame allocator, a known false
// positive (the frame's operator new and delete do match).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace basalt::demo {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Request = http::request<http::string_body>;
using namespace std::chrono_literals;

// Completion token that reports errors as values instead of throwing.
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr uint64_t kMaxBodyBytes = 64ull << 20;    // request bodies, Content-Length or chunked
constexpr uint32_t kMaxHeaderBytes = 64u << 10;    // request line plus header fields
constexpr size_t kMaxEchoedBodyBytes = 64u << 10;  // larger bodies are counted, not echoed
constexpr size_t kChunkBytes = 4096;               // largest chunk when chunked=1
constexpr size_t kWriteBatchBytes = 64u << 10;     // body bytes handed to one write
constexpr uint32_t kMaxDelayMs = 10 * 60 * 1000;   // a typo should not park a connection forever
constexpr auto kReadTimeout = 60s;                 // idle keep-alive or a stalled request
constexpr auto kWriteTimeout = 60s;                // a client that stops reading
constexpr auto kAcceptBackoff = 100ms;             // after EMFILE and friends

// ---------------------------------------------------------------------------------- arguments

struct Options {
  std::string listen;
  std::string name = "demo";
};

struct Flag {
  std::string_view flag;
  std::string Options::*field;
};

constexpr Flag kFlags[] = {
    {"--listen", &Options::listen},
    {"--name", &Options::name},
};

constexpr std::string_view kUsage =
    "usage: basalt-demo --listen HOST:PORT [--name NAME]\n"
    "\n"
    "An HTTP/1.1 service that echoes each request as JSON; query parameters change the answer:\n"
    "  status=NNN         answer with that status (200..599)\n"
    "  delay=MS           wait that long before answering\n"
    "  size=N             a body of N bytes of 'x' instead of the echo\n"
    "  chunked=1          send the body chunked\n"
    "  drop=1             close the connection without answering\n"
    "  drop=mid           promise a longer body than is sent, then close\n"
    "  header=Name:Value  add a response header (repeatable)\n"
    "  close=1            answer with Connection: close, then close\n"
    "Every answer carries x-demo-service: NAME. Prints 'listening HOST:PORT' once ready.\n";

// Accepts `--flag VALUE` pairs from kFlags; --listen is required.
std::optional<Options> parse_args(int argc, char** argv) {
  Options opts;
  for (int i = 1; i < argc; i += 2) {
    const auto* flag = std::find_if(std::begin(kFlags), std::end(kFlags),
                                    [&](const Flag& f) { return f.flag == argv[i]; });
    if (flag == std::end(kFlags) || i + 1 >= argc) return std::nullopt;
    opts.*(flag->field) = argv[i + 1];
  }
  if (opts.listen.empty()) return std::nullopt;
  return opts;
}

// Parses all of `text` as a decimal number; anything else (sign, spaces, overflow) is refused.
template <class T>
bool parse_number(std::string_view text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

// Opens, binds and listens on HOST:PORT ("[::1]:0" for IPv6). Returns an error text, or "".
std::string open_acceptor(tcp::acceptor& acceptor, std::string_view listen) {
  size_t colon = listen.rfind(':');
  uint16_t port = 0;
  if (colon == std::string_view::npos || !parse_number(listen.substr(colon + 1), port)) {
    return "--listen wants HOST:PORT, got '" + std::string(listen) + "'";
  }
  std::string host(listen.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }

  // A literal address needs no resolver; a name like "localhost" takes its first address.
  boost::system::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(host, ec), port);
  if (ec) {
    tcp::resolver resolver(acceptor.get_executor());
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) return "cannot resolve '" + host + "': " + ec.message();
    endpoint = results.begin()->endpoint();
  }

  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  return ec ? "cannot listen on " + std::string(listen) + ": " + ec.message() : "";
}

std::string format_endpoint(const tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

// ------------------------------------------------------------------------------- query plan

enum class Drop { none, now, mid };

// What the query string asks the answer to look like.
struct Plan {
  unsigned status = 200;
  std::chrono::milliseconds delay{0};
  std::optional<uint64_t> size;
  bool chunked = false;
  Drop drop = Drop::none;
  bool close = false;
  std::vector<std::pair<std::string, std::string>> headers;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Form decoding: '+' is a space and %XX a byte; a malformed escape is kept as written.
std::string percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 2 < in.size() && hex_digit(in[i + 1]) >= 0 &&
               hex_digit(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(in[i + 1]) * 16 + hex_digit(in[i + 2]));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

bool parse_flag(std::string_view value, bool& out) {
  if (value != "0" && value != "1") return false;
  out = value == "1";
  return true;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Each setter applies one parameter; false means the value is not acceptable.
using ParamSetter = bool (*)(Plan&, std::string_view value);

bool set_status(Plan& plan, std::string_view value) {
  return parse_number(value, plan.status) && plan.status >= 200 && plan.status <= 599;
}

bool set_delay(Plan& plan, std::string_view value) {
  uint32_t ms = 0;
  if (!parse_number(value, ms) || ms > kMaxDelayMs) return false;
  plan.delay = std::chrono::milliseconds(ms);
  return true;
}

bool set_size(Plan& plan, std::string_view value) {
  uint64_t size = 0;
  if (!parse_number(value, size)) return false;
  plan.size = size;
  return true;
}

bool set_chunked(Plan& plan, std::string_view value) { return parse_flag(value, plan.chunked); }

bool set_close(Plan& plan, std::string_view value) { return parse_flag(value, plan.close); }

bool set_drop(Plan& plan, std::string_view value) {
  static constexpr std::pair<std::string_view, Drop> kModes[] = {
      {"0", Drop::none}, {"1", Drop::now}, {"mid", Drop::mid}};
  for (const auto& [text, mode] : kModes) {
    if (value == text) {
      plan.drop = mode;
      return true;
    }
  }
  return false;
}

// "Name:Value"; the name must be a token and the value must not break the response framing.
bool add_header(Plan& plan, std::string_view value) {
  size_t colon = value.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  std::string_view name = value.substr(0, colon);
  std::string_view field = value.substr(colon + 1);
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
  if (!std::all_of(name.begin(), name.end(), is_token_char)) return false;
  if (field.find_first_of("\r\n", 0) != std::string_view::npos) return false;
  if (field.find('\0') != std::string_view::npos) return false;
  plan.headers.emplace_back(name, field);
  return true;
}

struct Param {
  std::string_view key;
  ParamSetter apply;
};

constexpr Param kParams[] = {
    {"status", set_status}, {"delay", set_delay},   {"size", set_size},   {"chunked", set_chunked},
    {"drop", set_drop},     {"header", add_header}, {"close", set_close},
};

// Reads the plan from the target's query. Returns an error text naming the bad parameter, or "".
std::string parse_plan(std::string_view target, Plan& plan) {
  size_t question = target.find('?');
  if (question == std::string_view::npos) return "";
  std::string_view query = target.substr(question + 1);
  query = query.substr(0, query.find('#'));

  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1));
    const auto* param = std::find_if(std::begin(kParams), std::end(kParams),
                                     [&](const Param& p) { return p.key == key; });
    if (param != std::end(kParams) && !param->apply(plan, value)) {
      return "bad query parameter " + key + "=" + value + "\n";
    }
  }
  return "";
}

// ------------------------------------------------------------------------------- JSON echo

// Lead bytes of multi-byte UTF-8 sequences: byte range, sequence length, payload bits of the
// lead, and the smallest code point the length may carry (anything lower is overlong).
struct Utf8Lead {
  unsigned char low, high;
  size_t length;
  unsigned char payload_mask;
  uint32_t smallest;
};

constexpr Utf8Lead kUtf8Leads[] = {
    {0xC2, 0xDF, 2, 0x1F, 0x80},
    {0xE0, 0xEF, 3, 0x0F, 0x800},
    {0xF0, 0xF4, 4, 0x07, 0x10000},
};

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0 when there is none.
size_t utf8_sequence_length(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  if (byte(0) < 0x80) return 1;
  const auto* lead =
      std::find_if(std::begin(kUtf8Leads), std::end(kUtf8Leads),
                   [&](const Utf8Lead& l) { return byte(0) >= l.low && byte(0) <= l.high; });
  if (lead == std::end(kUtf8Leads) || s.size() < lead->length) return 0;

  uint32_t cp = byte(0) & lead->payload_mask;
  for (size_t i = 1; i < lead->length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i) & 0x3F);
  }
  bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
  return cp < lead->smallest || cp > 0x10FFFF || surrogate ? 0 : lead->length;
}

// Appends `s` as a JSON string. Bytes that are not UTF-8 become U+FFFD so the output stays
// valid JSON whatever the client sent.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  while (!s.empty()) {
    unsigned char c = static_cast<unsigned char>(s.front());
    size_t n = utf8_sequence_length(s);
    if (n == 0) {
      out += "\\ufffd";
      n = 1;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out.append(s.substr(0, n));
    }
    s.remove_prefix(n);
  }
  out += '"';
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Request header fields with lower-case names, in first-seen order, repeats joined with ", ".
std::vector<std::pair<std::string, std::string>> joined_fields(const Request& req) {
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& field : req) {
    std::string name = lower(field.name_string());
    auto it =
        std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == name; });
    if (it == fields.end()) {
      fields.emplace_back(std::move(name), std::string(field.value()));
    } else {
      it->second += ", ";
      it->second += field.value();
    }
  }
  return fields;
}

// {"service","method","target","headers":{...},"body_bytes","body"?}; body only up to 64 KiB.
std::string echo_json(const Request& req, std::string_view service) {
  std::string out = "{\"service\":";
  append_json_string(out, service);
  out += ",\"method\":";
  append_json_string(out, req.method_string());
  out += ",\"target\":";
  append_json_string(out, req.target());

  out += ",\"headers\":{";
  bool first = true;
  for (const auto& [name, value] : joined_fields(req)) {
    if (!first) out += ',';
    first = false;
    append_json_string(out, name);
    out += ':';
    append_json_string(out, value);
  }
  out += "},\"body_bytes\":" + std::to_string(req.body().size());

  if (req.body().size() <= kMaxEchoedBodyBytes) {
    out += ",\"body\":";
    append_json_string(out, req.body());
  }
  out += "}\n";
  return out;
}

// ---------------------------------------------------------------------------------- replies

// A body to send: `text`, or `filler` bytes of 'x' streamed from a shared block.
struct Body {
  std::string text;
  std::optional<uint64_t> filler;

  uint64_t size() const { return filler ? *filler : text.size(); }

  // At most kWriteBatchBytes of the body starting at `offset`.
  asio::const_buffer slice(uint64_t offset, size_t length) const {
    static const std::string kFiller(kWriteBatchBytes, 'x');
    if (filler) return asio::buffer(kFiller.data(), std::min(length, kFiller.size()));
    return asio::buffer(text.data() + offset, std::min<uint64_t>(length, text.size() - offset));
  }
};

// Everything needed to put one answer on the wire.
struct Reply {
  std::string head;
  Body body;
  uint64_t send_bytes = 0;  // of body; less than declared for drop=mid, 0 for HEAD/204/304
  bool chunked = false;     // frame the sent bytes as chunks and end with the last chunk
  bool close = false;       // close the connection once sent
};

std::string reason_phrase(unsigned status) {
  std::string_view reason = http::obsolete_reason(http::int_to_status(status));
  return http::int_to_status(status) == http::status::unknown ? "Status" : std::string(reason);
}

// Decides the body, its framing and the head for `req` under `plan`.
Reply make_reply(const Request& req, const Plan& plan, std::string_view service) {
  Reply reply;
  bool no_body_status = plan.status == 204 || plan.status == 304;
  std::string content_type = plan.size ? "text/plain" : "application/json";
  if (plan.size)
    reply.body.filler = plan.size;
  else
    reply.body.text = echo_json(req, service);

  // drop=mid promises more than it sends, so it uses Content-Length whatever chunked says.
  bool mid = plan.drop == Drop::mid;
  bool chunked = plan.chunked && !mid;
  uint64_t declared = mid ? std::max<uint64_t>(reply.body.size(), 1) : reply.body.size();
  bool sends_body = !no_body_status && req.method() != http::verb::head;
  reply.send_bytes = sends_body ? (mid ? reply.body.size() / 2 : reply.body.size()) : 0;
  reply.chunked = chunked && sends_body;
  reply.close = plan.close || !req.keep_alive() || mid;

  std::string& h = reply.head;
  h = "HTTP/1.1 " + std::to_string(plan.status) + " " + reason_phrase(plan.status) + "\r\n";
  h += "x-demo-service: " + std::string(service) + "\r\n";
  for (const auto& [name, value] : plan.headers) h += name + ": " + value + "\r\n";
  if (!no_body_status) {
    h += "content-type: " + content_type + "\r\n";
    h += chunked ? std::string("transfer-encoding: chunked\r\n")
                 : "content-length: " + std::to_string(declared) + "\r\n";
  }
  if (reply.close)
    h += "connection: close\r\n";
  else if (req.version() == 10)
    h += "connection: keep-alive\r\n";
  h += "\r\n";
  return reply;
}

// A short text/plain answer for requests the demo refuses.
Reply error_reply(unsigned status, std::string_view text, std::string_view service, bool close) {
  Reply reply;
  reply.body.text = text;
  reply.send_bytes = text.size();
  reply.close = close;
  reply.head = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n" +
               "x-demo-service: " + std::string(service) + "\r\n" +
               "content-type: text/plain\r\ncontent-length: " + std::to_string(text.size()) +
               "\r\n" + (close ? "connection: close\r\n" : "") + "\r\n";
  return reply;
}

asio::awaitable<boost::system::error_code> write_batch(beast::tcp_stream& stream,
                                                       std::vector<asio::const_buffer>& batch) {
  stream.expires_after(kWriteTimeout);
  auto [ec, written] = co_await asio::async_write(stream, batch, kNoThrow);
  batch.clear();
  co_return ec;
}

// Writes the head and `send_bytes` of the body, in batches so that size= never needs the whole
// body in memory.
asio::awaitable<boost::system::error_code> send_reply(beast::tcp_stream& stream,
                                                      const Reply& reply) {
  static constexpr std::string_view kFullChunkLine = "1000\r\n";  // kChunkBytes in hex
  static constexpr std::string_view kCrlf = "\r\n";
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";
  std::vector<asio::const_buffer> batch{asio::buffer(reply.head)};
  std::string short_chunk_line;  // only the final chunk can be short
  size_t batched = 0;

  for (uint64_t offset = 0; offset < reply.send_bytes;) {
    size_t step = reply.chunked ? kChunkBytes : kWriteBatchBytes;
    size_t length = static_cast<size_t>(std::min<uint64_t>(step, reply.send_bytes - offset));
    if (reply.chunked && length == kChunkBytes) {
      batch.push_back(asio::buffer(kFullChunkLine));
    } else if (reply.chunked) {
      char hex[20];
      auto [end, ec] = std::to_chars(hex, hex + sizeof hex, length, 16);
      short_chunk_line.assign(hex, end).append(kCrlf);
      batch.push_back(asio::buffer(short_chunk_line));
    }
    batch.push_back(reply.body.slice(offset, length));
    if (reply.chunked) batch.push_back(asio::buffer(kCrlf));
    offset += length;
    batched += length;
    if (batched >= kWriteBatchBytes) {
      if (auto ec = co_await write_batch(stream, batch)) co_return ec;
      batched = 0;
    }
  }

  if (reply.chunked) batch.push_back(asio::buffer(kLastChunk));
  co_return co_await write_batch(stream, batch);
}

// ------------------------------------------------------------------------------ connections

void close_stream(beast::tcp_stream& stream) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
}

// Reads one request. Answers "100 Continue" when the client waits for it, so that curl does
// not pause a second before sending a large body.
asio::awaitable<boost::system::error_code> read_request(
    beast::tcp_stream& stream, beast::flat_buffer& buffer,
    http::request_parser<http::string_body>& parser) {
  parser.header_limit(kMaxHeaderBytes);
  parser.body_limit(kMaxBodyBytes);
  stream.expires_after(kReadTimeout);
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
  if (ec) co_return ec;

  const Request& req = parser.get();
  if (req.version() >= 11 && beast::iequals(req[http::field::expect], "100-continue")) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [wec, written] = co_await asio::async_write(stream, asio::buffer(kContinue), kNoThrow);
    if (wec) co_return wec;
  }
  auto [bec, m] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  co_return bec;
}

struct ReadFailure {
  http::error error;
  unsigned status;
  std::string_view text;
};

constexpr ReadFailure kReadFailures[] = {
    {http::error::body_limit, 413, "request body over 64 MiB\n"},
    {http::error::header_limit, 431, "request head over 64 KiB\n"},
};

// The answer to a request that could not be read: a status for a malformed or oversized
// request, nothing when the peer went away or timed out.
std::optional<Reply> reply_for_read_error(boost::system::error_code ec, std::string_view service) {
  if (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
      ec == http::error::end_of_stream || ec == http::error::partial_message) {
    return std::nullopt;
  }
  for (const auto& failure : kReadFailures) {
    if (ec == failure.error) return error_reply(failure.status, failure.text, service, true);
  }
  return error_reply(400, "malformed request: " + ec.message() + "\n", service, true);
}

// Serves requests on one connection until the client leaves, asks to close, or a plan says so.
asio::awaitable<void> serve_connection(beast::tcp_stream stream, std::string service) {
  beast::flat_buffer buffer;
  for (;;) {
    // Read the next request; a broken one gets a last answer.
    http::request_parser<http::string_body> parser;
    if (auto ec = co_await read_request(stream, buffer, parser)) {
      if (auto reply = reply_for_read_error(ec, service)) co_await send_reply(stream, *reply);
      break;
    }
    const Request& req = parser.get();

    // Work out what the query asks for.
    Plan plan;
    if (std::string error = parse_plan(req.target(), plan); !error.empty()) {
      Reply reply = error_reply(400, error, service, !req.keep_alive());
      if (co_await send_reply(stream, reply) || reply.close) break;
      continue;
    }

    // Wait, drop, or answer.
    if (plan.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, plan.delay);
      co_await timer.async_wait(kNoThrow);
    }
    if (plan.drop == Drop::now) break;
    Reply reply = make_reply(req, plan, service);
    if (co_await send_reply(stream, reply) || reply.close) break;
  }
  close_stream(stream);
}

asio::awaitable<void> accept_loop(tcp::acceptor acceptor, std::string service) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Out of descriptors or similar: retrying at once would spin.
      asio::steady_timer timer(acceptor.get_executor(), kAcceptBackoff);
      co_await timer.async_wait(kNoThrow);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::co_spawn(acceptor.get_executor(),
                   serve_connection(beast::tcp_stream(std::move(socket)), service), asio::detached);
  }
}

}  // namespace
}  // namespace basalt::demo

int main(int argc, char** argv) {
  namespace demo = basalt::demo;
  namespace asio = boost::asio;

  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << demo::kUsage;
      return 0;
    }
  }
  std::optional<demo::Options> opts = demo::parse_args(argc, argv);
  if (!opts) {
    std::cerr << demo::kUsage;
    return 2;
  }

  asio::io_context io(1);
  asio::ip::tcp::acceptor acceptor(io);
  if (std::string error = demo::open_acceptor(acceptor, opts->listen); !error.empty()) {
    std::cerr << "basalt-demo: " << error << '\n';
    return 1;
  }
  // Signals are caught before the port is announced, so a caller may stop us as soon as it
  // has read the line. The line is flushed at once: callers wait for it to learn the port.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { io.stop(); });
  std::cout << "listening " << demo::format_endpoint(acceptor.local_endpoint()) << std::endl;
  asio::co_spawn(io, demo::accept_loop(std::move(acceptor), opts->name), asio::detached);
  io.run();
  return 0;
}
