#include "config/units.h"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace basalt::config {
namespace {

struct Unit {
  std::string_view suffix;
  uint64_t scale;
};

// A suffix must match the whole remainder after the number, so "ms" never reads as "m".
constexpr std::array<Unit, 4> kDurationUnits{{
    {"ms", 1},
    {"s", 1'000},
    {"m", 60'000},
    {"h", 3'600'000},
}};

constexpr std::array<Unit, 5> kSizeUnits{{
    {"", 1},
    {"KiB", uint64_t{1} << 10},
    {"MiB", uint64_t{1} << 20},
    {"GiB", uint64_t{1} << 30},
    {"TiB", uint64_t{1} << 40},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the run of ASCII digits at the start of `s`.
size_t digit_run(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  return n;
}

// Parses a non-empty all-digit string; nullopt on overflow.
std::optional<uint64_t> to_u64(std::string_view digits) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

template <size_t N>
std::optional<uint64_t> unit_scale(const std::array<Unit, N>& units, std::string_view suffix) {
  for (const auto& u : units)
    if (u.suffix == suffix) return u.scale;
  return std::nullopt;
}

// Milliseconds contributed by the fractional digits `frac` of a number in `scale` ms units,
// or nullopt when they do not come to a whole millisecond.
std::optional<uint64_t> fraction_ms(std::string_view frac, uint64_t scale) {
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  if (frac.empty()) return 0;
  // Nine digits keep value * scale far below 2^64; longer fractions are never whole ms.
  if (frac.size() > 9) return std::nullopt;

  uint64_t divisor = 1;
  for (size_t i = 0; i < frac.size(); ++i) divisor *= 10;
  uint64_t scaled = *to_u64(frac) * scale;
  if (scaled % divisor != 0) return std::nullopt;
  return scaled / divisor;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text == "0") return Duration{0};

  // Split "<int>[.<frac>]<unit>".
  size_t int_len = digit_run(text);
  if (int_len == 0) return std::nullopt;
  std::string_view int_part = text.substr(0, int_len);
  std::string_view rest = text.substr(int_len);
  std::string_view frac;
  if (!rest.empty() && rest.front() == '.') {
    size_t frac_len = digit_run(rest.substr(1));
    if (frac_len == 0) return std::nullopt;
    frac = rest.substr(1, frac_len);
    rest = rest.substr(1 + frac_len);
  }

  // Scale both parts to milliseconds, refusing anything that overflows Duration.
  auto scale = unit_scale(kDurationUnits, rest);
  auto whole = to_u64(int_part);
  if (!scale || !whole) return std::nullopt;
  auto part = fraction_ms(frac, *scale);
  if (!part) return std::nullopt;
  uint64_t ms = 0;
  if (__builtin_mul_overflow(*whole, *scale, &ms) || __builtin_add_overflow(ms, *part, &ms))
    return std::nullopt;
  if (ms > static_cast<uint64_t>(std::numeric_limits<Duration::rep>::max())) return std::nullopt;
  return Duration{static_cast<Duration::rep>(ms)};
}

std::optional<uint64_t> parse_size(std::string_view text) {
  size_t int_len = digit_run(text);
  if (int_len == 0) return std::nullopt;

  auto scale = unit_scale(kSizeUnits, text.substr(int_len));
  auto count = to_u64(text.substr(0, int_len));
  if (!scale || !count) return std::nullopt;
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(*count, *scale, &bytes)) return std::nullopt;
  return bytes;
}

}  // namespace basalt::config
