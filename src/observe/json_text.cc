#include "observe/json_text.h"

#include <array>
#include <charconv>
#include <cmath>

namespace basalt::observe {
namespace {

// What append_json_string does with each byte when it starts a character.
enum class ByteClass : uint8_t { plain, escape, non_ascii };

constexpr std::array<ByteClass, 256> make_byte_classes() {
  std::array<ByteClass, 256> t{};
  for (int b = 0; b < 256; ++b) {
    if (b < 0x20 || b == '"' || b == '\\') {
      t[b] = ByteClass::escape;
    } else if (b >= 0x80) {
      t[b] = ByteClass::non_ascii;
    } else {
      t[b] = ByteClass::plain;
    }
  }
  return t;
}
constexpr std::array<ByteClass, 256> kByteClass = make_byte_classes();

// Well-formed UTF-8 (RFC 3629, Unicode table 3-7): for each range of lead bytes, the sequence
// length and the allowed range of the second byte. The narrow second-byte ranges are what
// exclude overlong forms, UTF-16 surrogates and code points above U+10FFFF. Later bytes are
// always 0x80..0xBF.
struct LeadRange {
  uint8_t first, last;  // lead byte range
  uint8_t length;
  uint8_t second_lo, second_hi;
};
constexpr LeadRange kLeadRanges[] = {
    {0xC2, 0xDF, 2, 0x80, 0xBF}, {0xE0, 0xE0, 3, 0xA0, 0xBF}, {0xE1, 0xEC, 3, 0x80, 0xBF},
    {0xED, 0xED, 3, 0x80, 0x9F}, {0xEE, 0xEF, 3, 0x80, 0xBF}, {0xF0, 0xF0, 4, 0x90, 0xBF},
    {0xF1, 0xF3, 4, 0x80, 0xBF}, {0xF4, 0xF4, 4, 0x80, 0x8F},
};

struct LeadRule {
  uint8_t length = 0;  // 0: not a valid lead byte
  uint8_t second_lo = 0, second_hi = 0;
};

constexpr std::array<LeadRule, 256> make_lead_rules() {
  std::array<LeadRule, 256> t{};
  for (const LeadRange& r : kLeadRanges) {
    for (int b = r.first; b <= r.last; ++b) t[b] = {r.length, r.second_lo, r.second_hi};
  }
  return t;
}
constexpr std::array<LeadRule, 256> kLeadRule = make_lead_rules();

// Length of the well-formed UTF-8 sequence starting at s[i], or 0 if s[i] does not start one.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const LeadRule rule = kLeadRule[static_cast<unsigned char>(s[i])];
  if (rule.length == 0 || s.size() - i < rule.length) return 0;
  const auto second = static_cast<unsigned char>(s[i + 1]);
  if (second < rule.second_lo || second > rule.second_hi) return 0;
  for (size_t k = 2; k < rule.length; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if (c < 0x80 || c > 0xBF) return 0;
  }
  return rule.length;
}

// Short escapes JSON defines for control characters; 0 means "use \u00XX".
constexpr char short_escape(unsigned char c) {
  switch (c) {
    case '\b':
      return 'b';
    case '\f':
      return 'f';
    case '\n':
      return 'n';
    case '\r':
      return 'r';
    case '\t':
      return 't';
    case '"':
      return '"';
    case '\\':
      return '\\';
    default:
      return 0;
  }
}

void append_u00xx(std::string& out, unsigned char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  out.append(esc, sizeof esc);
}

void append_escaped_byte(std::string& out, unsigned char c) {
  if (const char e = short_escape(c)) {
    const char esc[2] = {'\\', e};
    out.append(esc, 2);
  } else {
    append_u00xx(out, c);
  }
}

template <typename T>
void append_integer(std::string& out, T v) {
  char buf[24];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

// Appends `frac` as `digits` decimal digits with leading zeros.
void append_fraction(std::string& out, uint64_t frac, int digits) {
  char buf[20];
  for (int i = digits - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  out.append(buf, static_cast<size_t>(digits));
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // Copy the longest run of bytes that need no attention in one append.
    size_t run = i;
    while (run < s.size() && kByteClass[static_cast<unsigned char>(s[run])] == ByteClass::plain) {
      ++run;
    }
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;

    const auto c = static_cast<unsigned char>(s[i]);
    if (kByteClass[c] == ByteClass::escape) {
      append_escaped_byte(out, c);
      ++i;
    } else if (const size_t n = utf8_sequence_length(s, i)) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      append_u00xx(out, c);
      ++i;
    }
  }
  out.push_back('"');
}

void append_uint(std::string& out, uint64_t v) { append_integer(out, v); }

void append_int(std::string& out, int64_t v) { append_integer(out, v); }

void append_millis(std::string& out, uint64_t us) {
  append_integer(out, us / 1000);
  out.push_back('.');
  append_fraction(out, us % 1000, 3);
}

void append_seconds(std::string& out, uint64_t us) {
  append_integer(out, us / 1'000'000);
  uint64_t frac = us % 1'000'000;
  if (frac == 0) return;
  int digits = 6;
  while (frac % 10 == 0) {
    frac /= 10;
    --digits;
  }
  out.push_back('.');
  append_fraction(out, frac, digits);
}

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

}  // namespace basalt::observe
