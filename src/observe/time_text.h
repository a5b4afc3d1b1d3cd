// UTC timestamps in RFC 3339 form with milliseconds ("2026-12-03T19:47:12.123Z"), as written at
// the start of every access log and application log line.
//
// Formatting a calendar date costs far more than the rest of a log line, so the seconds part is
// formatted once per second and reused; only the milliseconds change between calls. One object
// per thread (it is not synchronized): the access log keeps one per worker.
//
//   observe::UtcTimeText clock_text;
//   clock_text.append(line, std::chrono::system_clock::now());
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

namespace basalt::observe {

class UtcTimeText {
 public:
  // Appends `t` (truncated to the millisecond, rounding toward the past) as
  // YYYY-MM-DDTHH:MM:SS.mmmZ. Never allocates when `out` has room for 24 more bytes.
  void append(std::string& out, std::chrono::system_clock::time_point t);

 private:
  static constexpr int64_t kNoSecond = std::numeric_limits<int64_t>::min();

  int64_t cached_second_ = kNoSecond;  // seconds since the epoch that head_ shows
  char head_[20] = {};                 // "YYYY-MM-DDTHH:MM:SS" (19 chars + NUL)
};

}  // namespace basalt::observe
