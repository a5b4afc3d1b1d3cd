// Appending JSON text to a caller-owned buffer without allocating: the building blocks of the
// access log and application log lines.
//
// Every function appends to `out`; when `out` already has the capacity (a buffer reused from
// line to line), no allocation happens. Strings are escaped so that any byte sequence, including
// invalid UTF-8 from a hostile client, yields one valid JSON string on one line.
//
//   std::string line;
//   line.reserve(4096);
//   line += "{\"path\":";
//   observe::append_json_string(line, request_path);
//   line += ",\"duration_ms\":";
//   observe::append_millis(line, 1234);  // "1.234"
//   line += "}\n";
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace basalt::observe {

// Appends `s` as a quoted JSON string. Escapes '"', '\\' and control characters (short forms
// \b \f \n \r \t, otherwise \u00XX). Well-formed UTF-8 is copied as is; each byte that is not
// part of a well-formed sequence (stray continuation, overlong form, surrogate, > U+10FFFF,
// truncated sequence) is written as \u00XX, so the output is always valid JSON and the bad
// byte stays visible.
void append_json_string(std::string& out, std::string_view s);

void append_uint(std::string& out, uint64_t v);
void append_int(std::string& out, int64_t v);

// Appends us / 1000 with exactly three fraction digits (1234 -> "1.234", 5 -> "0.005"),
// computed in integers so the value is exact.
void append_millis(std::string& out, uint64_t us);

// Appends us / 1e6 as a decimal with trailing fraction zeros removed (1500000 -> "1.5",
// 2000000 -> "2", 250 -> "0.00025"), computed in integers so the value is exact.
void append_seconds(std::string& out, uint64_t us);

// Appends the shortest text that reads back as `v`; NaN and infinities (which JSON cannot
// express) become null.
void append_double(std::string& out, double v);

}  // namespace basalt::observe
