#include "http/path.h"

#include <array>
#include <cstdint>

namespace basalt::http {
namespace {

// Byte classes from RFC 3986 section 2 and 3.3, one table lookup per byte.
enum : uint8_t {
  kUnreserved = 1,  // ALPHA DIGIT - . _ ~
  kLiteral = 2,     // may appear as itself in a path: unreserved, sub-delims, ':', '@'
};

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kUnreserved | kLiteral;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kUnreserved | kLiteral;
  for (int c = '0'; c <= '9'; ++c) t[c] = kUnreserved | kLiteral;
  for (unsigned char c : std::string_view("-._~")) t[c] = kUnreserved | kLiteral;
  for (unsigned char c : std::string_view("!$&'()*+,;=:@")) t[c] = kLiteral;
  return t;
}

constexpr std::array<uint8_t, 256> kClasses = make_classes();

// Value of one hex digit, or -1.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(unsigned char c) { return (kClasses[c] & kUnreserved) != 0; }
bool is_literal(unsigned char c) { return (kClasses[c] & kLiteral) != 0; }

// Appends one path segment (no '/' inside) to `out`, validated and with its percent-encoding
// put in canonical form.
PathError append_segment(std::string_view seg, std::string& out) {
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  for (size_t i = 0; i < seg.size(); ++i) {
    const auto c = static_cast<unsigned char>(seg[i]);
    if (is_literal(c)) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (c != '%') return PathError::bad_character;

    // A percent triplet: decode only what could have been written plainly.
    if (seg.size() - i < 3) return PathError::bad_percent_encoding;
    const int hi = hex_value(seg[i + 1]);
    const int lo = hex_value(seg[i + 2]);
    if (hi < 0 || lo < 0) return PathError::bad_percent_encoding;
    const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
    if (is_unreserved(decoded)) {
      out.push_back(static_cast<char>(decoded));
    } else {
      out.push_back('%');
      out.push_back(kHexDigits[hi]);
      out.push_back(kHexDigits[lo]);
    }
    i += 2;
  }
  return PathError::none;
}

// Drops the segment that `out` ends with (out is ".../prev/"), never the root '/'.
void pop_segment(std::string& out) {
  if (out.size() <= 1) return;
  const size_t slash = out.rfind('/', out.size() - 2);
  out.resize(slash + 1);
}

}  // namespace

std::string_view path_error_name(PathError e) {
  static constexpr std::string_view kNames[] = {"none", "not_origin_form", "bad_percent_encoding",
                                                "bad_character"};
  return kNames[static_cast<size_t>(e)];
}

PathError normalize_target(std::string_view target, std::string& out, std::string_view& query) {
  out.clear();
  if (target.empty() || target.front() != '/') return PathError::not_origin_form;

  // Split off the query; a fragment never belongs in a request target.
  if (target.find('#') != std::string_view::npos) return PathError::bad_character;
  const size_t qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  query = qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);

  // Walk segment by segment. `out` always ends with '/' between segments, so a dot segment
  // is resolved by cutting `out` back, after decoding (that is what catches "%2e%2e").
  out.reserve(path.size());
  out.push_back('/');
  size_t pos = 1;
  while (pos < path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(pos, end - pos);
    const bool more = end < path.size();
    pos = end + 1;
    if (seg.empty()) continue;  // "//" merges into one '/'

    const size_t seg_start = out.size();
    if (PathError e = append_segment(seg, out); e != PathError::none) return e;
    const std::string_view written = std::string_view(out).substr(seg_start);
    const bool dot = written == ".";
    const bool dot_dot = written == "..";
    if (dot || dot_dot) {
      out.resize(seg_start);
      if (dot_dot) pop_segment(out);
      continue;
    }
    if (more) out.push_back('/');
  }
  return PathError::none;
}

}  // namespace basalt::http
