#include "observe/time_text.h"

#include <cstdio>

namespace basalt::observe {

void UtcTimeText::append(std::string& out, std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t).time_since_epoch().count();
  const int64_t second = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const auto milli = static_cast<unsigned>(ms - second * 1000);

  // Reformat the calendar part only when the second changes.
  if (second != cached_second_) {
    const sys_seconds s{seconds{second}};
    const sys_days day = floor<days>(s);
    const year_month_day ymd{day};
    const hh_mm_ss hms{s - day};
    std::snprintf(head_, sizeof head_, "%04d-%02u-%02uT%02d:%02d:%02d", int{ymd.year()},
                  unsigned{ymd.month()}, unsigned{ymd.day()}, static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    cached_second_ = second;
  }

  const char tail[5] = {'.', static_cast<char>('0' + milli / 100),
                        static_cast<char>('0' + milli / 10 % 10),
                        static_cast<char>('0' + milli % 10), 'Z'};
  out.append(head_, 19);
  out.append(tail, sizeof tail);
}

}  // namespace basalt::observe
