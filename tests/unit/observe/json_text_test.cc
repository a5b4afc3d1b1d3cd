#include "observe/json_text.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "observe/time_text.h"

namespace basalt::observe {
namespace {

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// What a JSON parser hands back for the text we wrote.
std::string round_trip(std::string_view s) {
  return nlohmann::json::parse(json_quoted(s)).get<std::string>();
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(json_quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(json_quoted("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(json_quoted(std::string_view("\x00\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(json_quoted("/"), R"("/")");
  EXPECT_EQ(json_quoted("\x7f"), "\"\x7f\"");
}

TEST(JsonString, CopiesWellFormedUtf8) {
  const std::string s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
  EXPECT_EQ(json_quoted(s), "\"" + s + "\"");
  EXPECT_EQ(round_trip(s), s);
}

TEST(JsonString, WritesEachInvalidUtf8ByteAsU00XX) {
  EXPECT_EQ(json_quoted("\xff"), R"("\u00ff")");
  EXPECT_EQ(json_quoted("\x80x"), R"("\u0080x")");                    // stray continuation
  EXPECT_EQ(json_quoted("\xc0\xaf"), R"("\u00c0\u00af")");            // overlong '/'
  EXPECT_EQ(json_quoted("\xed\xa0\x80"), R"("\u00ed\u00a0\u0080")");  // UTF-16 surrogate
  EXPECT_EQ(json_quoted("\xf4\x90\x80\x80"), R"("\u00f4\u0090\u0080\u0080")");  // > U+10FFFF
  EXPECT_EQ(json_quoted("\xe2\x82"), R"("\u00e2\u0082")");          // truncated at the end
  EXPECT_EQ(json_quoted("\xe2\x82z"), R"("\u00e2\u0082z")");        // truncated mid-string
  EXPECT_EQ(json_quoted("\xc3(\xc3\xa9"), "\"\\u00c3(\xc3\xa9\"");  // recovers at the next byte
}

TEST(JsonString, AnyByteSequenceParsesBack) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (int i = 255; i >= 0; --i) all.push_back(static_cast<char>(i));
  const std::string text = json_quoted(all);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_TRUE(nlohmann::json::accept(text));
}

TEST(JsonNumbers, MillisecondsHaveThreeExactDecimals) {
  std::string out;
  append_millis(out, 1234);
  out += ' ';
  append_millis(out, 5);
  out += ' ';
  append_millis(out, 0);
  out += ' ';
  append_millis(out, 12'345'678'901);
  EXPECT_EQ(out, "1.234 0.005 0.000 12345678.901");
}

TEST(JsonNumbers, SecondsDropTrailingZeros) {
  std::string out;
  for (const uint64_t us : {0ull, 1'500'000ull, 2'000'000ull, 250ull, 1ull, 1'600ull}) {
    append_seconds(out, us);
    out += ' ';
  }
  EXPECT_EQ(out, "0 1.5 2 0.00025 0.000001 0.0016 ");
}

TEST(JsonNumbers, IntegersAndDoubles) {
  std::string out;
  append_int(out, -42);
  out += ' ';
  append_uint(out, UINT64_MAX);
  out += ' ';
  append_double(out, 0.1);
  out += ' ';
  append_double(out, 1.0 / 0.0);
  EXPECT_EQ(out, "-42 18446744073709551615 0.1 null");
}

std::chrono::system_clock::time_point at(std::chrono::year_month_day day, std::chrono::hours h,
                                         std::chrono::minutes m, std::chrono::seconds s,
                                         std::chrono::milliseconds ms) {
  return std::chrono::sys_days{day} + h + m + s + ms;
}

TEST(UtcTimeText, FormatsRfc3339WithMilliseconds) {
  using namespace std::chrono;
  UtcTimeText t;
  std::string out;
  t.append(out, at(2026y / 12 / 3, 19h, 47min, 12s, 123ms));
  EXPECT_EQ(out, "2026-12-03T19:47:12.123Z");
}

TEST(UtcTimeText, ReformatsWhenTheSecondChanges) {
  using namespace std::chrono;
  UtcTimeText t;
  std::string out;
  t.append(out, at(2026y / 12 / 31, 23h, 59min, 59s, 5ms));
  out += ' ';
  t.append(out, at(2026y / 12 / 31, 23h, 59min, 59s, 999ms));
  out += ' ';
  t.append(out, at(2027y / 1 / 1, 0h, 0min, 0s, 0ms));
  out += ' ';
  t.append(out, at(2026y / 12 / 31, 23h, 59min, 59s, 1ms));  // clocks may step back
  EXPECT_EQ(out,
            "2026-12-31T23:59:59.005Z 2026-12-31T23:59:59.999Z 2027-01-01T00:00:00.000Z "
            "2026-12-31T23:59:59.001Z");
}

TEST(UtcTimeText, TruncatesSubMillisecondsTowardThePast) {
  using namespace std::chrono;
  UtcTimeText t;
  std::string out;
  t.append(out, sys_days{2024y / 2 / 29} + 999'999us);
  out += ' ';
  t.append(out, sys_days{1970y / 1 / 1} - 1us);  // before the epoch
  EXPECT_EQ(out, "2024-02-29T00:00:00.999Z 1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace basalt::observe
