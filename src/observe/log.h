// The application log: structured JSON lines about what the gateway itself is doing (listening,
// reloading, an upstream going unhealthy). Traffic outcomes belong in metrics and the access log,
// not here; this log is not on the request path.
//
// Each line is one JSON object written with a single write(2), so lines from different threads
// never interleave. Repeated warn/error lines (same component and msg) are limited to 10 per
// second; the rest are counted and reported in one "suppressed N" line.
//
//   observe::log::init(observe::log::Level::info, "stderr");
//   observe::log::info("gateway", "listening", {{"listener", name}, {"address", addr}});
//   if (observe::log::enabled(observe::log::Level::debug)) {
//     observe::log::debug("router", "table built", {{"routes", table.size()}});
//   }
// writes
//   {"time":"2026-12-03T19:47:12.123Z","level":"info","component":"gateway","msg":"listening",
//    "listener":"public","address":"127.0.0.1:8080"}
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "config/model.h"

namespace basalt::observe::log {

enum class Level { debug, info, warn, error };

Level from_config(config::LogLevel l);
std::string_view level_name(Level l);

// One key/value pair of a line. Any integer type converts to int64_t (unsigned values above
// INT64_MAX are clamped), floating point to double, anything string-like to a view, which must
// stay valid until emit() returns.
struct Field {
  using Value = std::variant<std::string_view, int64_t, double, bool>;

  std::string_view key;
  Value value;

  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Field(std::string_view k, T v) : key(k), value(to_int64(v)) {}
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Field(std::string_view k, T v) : key(k), value(static_cast<double>(v)) {}

 private:
  template <typename T>
  static int64_t to_int64(T v) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      return v > static_cast<T>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v);
    } else {
      return static_cast<int64_t>(v);
    }
  }
};

// Sets the minimum level and the destination: "stdout", "stderr" or a file (opened for append,
// created 0644). Until called, the log writes info and above to stderr. On failure to open,
// keeps the previous destination, returns false and sets *err.
bool init(Level min, const std::string& path, std::string* err = nullptr);
bool init(const config::LogConfig& cfg, std::string* err = nullptr);

// While on, error lines are also written to stderr when the log goes elsewhere: during startup
// a failure (a port in use, say) must reach the person who started the gateway, not only a file.
void mirror_errors_to_stderr(bool on);

// Cheap (one relaxed atomic load): call before building expensive fields.
bool enabled(Level l);

// Writes one line if `l` is enabled and, for warn and error, the rate limit allows it.
void emit(Level l, std::string_view component, std::string_view msg,
          std::initializer_list<Field> fields = {});

inline void debug(std::string_view component, std::string_view msg,
                  std::initializer_list<Field> fields = {}) {
  if (enabled(Level::debug)) emit(Level::debug, component, msg, fields);
}
inline void info(std::string_view component, std::string_view msg,
                 std::initializer_list<Field> fields = {}) {
  if (enabled(Level::info)) emit(Level::info, component, msg, fields);
}
inline void warn(std::string_view component, std::string_view msg,
                 std::initializer_list<Field> fields = {}) {
  if (enabled(Level::warn)) emit(Level::warn, component, msg, fields);
}
inline void error(std::string_view component, std::string_view msg,
                  std::initializer_list<Field> fields = {}) {
  if (enabled(Level::error)) emit(Level::error, component, msg, fields);
}

// Repeated warn/error lines allowed per component+msg per second of the log's clock.
inline constexpr int kRepeatsPerSecond = 10;

// Writes the pending "suppressed N" lines of seconds that have ended. emit() does this on its
// own; the main thread may also call it from a timer so that a burst's count shows up even when
// the log goes quiet afterwards.
void report_suppressed();

// Testing hook: replaces the clock that stamps lines and drives the rate limit (nullptr
// restores the system clock), and forgets the rate limit's history.
using ClockFn = std::chrono::system_clock::time_point (*)();
void set_clock_for_test(ClockFn clock);

}  // namespace basalt::observe::log
