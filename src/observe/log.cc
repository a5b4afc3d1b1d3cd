#include "observe/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <system_error>
#include <unordered_map>

#include "observe/json_text.h"
#include "observe/time_text.h"

namespace basalt::observe::log {
namespace {

constexpr std::array<std::string_view, 4> kLevelNames = {"debug", "info", "warn", "error"};

// Entries beyond this many are pruned of quiet keys, so a flood of distinct messages cannot
// grow the rate limiter without bound.
constexpr size_t kMaxTrackedKeys = 1024;

// Rate-limit history of one component+msg pair.
struct Repeat {
  std::string component;
  std::string msg;
  Level level = Level::warn;  // of the latest suppressed line
  int64_t second = 0;         // the clock second `count` belongs to
  int count = 0;              // lines written in that second
  uint64_t suppressed = 0;    // lines dropped since the last report
};

// Everything behind the log's mutex. Lines are formatted under it too: this log is not on the
// request path, and one lock keeps the time cache, the line buffer and the limiter simple.
struct Sink {
  std::mutex mu;
  int fd = STDERR_FILENO;
  bool owns_fd = false;
  bool mirror_errors = false;  // error lines also to stderr when fd is elsewhere
  ClockFn clock = nullptr;     // null: system_clock
  UtcTimeText clock_text;
  std::string line;
  std::string key;  // scratch for limiter lookups
  std::unordered_map<std::string, Repeat> repeats;
  size_t unreported = 0;  // entries of `repeats` with suppressed > 0
};

Sink& sink() {
  static Sink s;
  return s;
}

std::atomic<int> g_min_level{static_cast<int>(Level::info)};

std::chrono::system_clock::time_point now_locked(const Sink& s) {
  return s.clock ? s.clock() : std::chrono::system_clock::now();
}

int64_t second_of(std::chrono::system_clock::time_point t) {
  return std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count();
}

// Writes the line with one write(2) (more only if the kernel takes part of it). Errors are
// ignored: there is nowhere left to report them.
void write_line_locked(Sink& s, int fd) {
  std::string_view rest = s.line;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd, rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

void append_value(std::string& out, const Field::Value& v) {
  if (const auto* s = std::get_if<std::string_view>(&v)) {
    append_json_string(out, *s);
  } else if (const auto* i = std::get_if<int64_t>(&v)) {
    append_int(out, *i);
  } else if (const auto* d = std::get_if<double>(&v)) {
    append_double(out, *d);
  } else {
    out += std::get<bool>(v) ? "true" : "false";
  }
}

// Formats {"time":..,"level":..,"component":..,"msg":.., fields...}\n into s.line.
void format_line_locked(Sink& s, std::chrono::system_clock::time_point t, Level l,
                        std::string_view component, std::string_view msg,
                        std::initializer_list<Field> fields) {
  std::string& out = s.line;
  out.clear();
  out += "{\"time\":\"";
  s.clock_text.append(out, t);
  out += "\",\"level\":\"";
  out += level_name(l);
  out += "\",\"component\":";
  append_json_string(out, component);
  out += ",\"msg\":";
  append_json_string(out, msg);
  for (const Field& f : fields) {
    out.push_back(',');
    append_json_string(out, f.key);
    out.push_back(':');
    append_value(out, f.value);
  }
  out += "}\n";
}

// Writes one "suppressed N" line for every key whose second has passed with lines dropped.
void report_suppressed_locked(Sink& s, std::chrono::system_clock::time_point t) {
  if (s.unreported == 0) return;
  const int64_t second = second_of(t);
  for (auto& [key, r] : s.repeats) {
    if (r.suppressed == 0 || r.second == second) continue;
    const std::string msg = "suppressed " + std::to_string(r.suppressed);
    format_line_locked(s, t, r.level, r.component, msg,
                       {{"suppressed", r.suppressed}, {"repeated_msg", r.msg}});
    write_line_locked(s, s.fd);
    r.suppressed = 0;
    --s.unreported;
  }
}

void prune_locked(Sink& s, int64_t second) {
  if (s.repeats.size() < kMaxTrackedKeys) return;
  std::erase_if(s.repeats, [second](const auto& kv) {
    return kv.second.suppressed == 0 && kv.second.second != second;
  });
}

// True if a warn/error line for component+msg may be written now; otherwise counts it.
bool admit_locked(Sink& s, Level l, std::string_view component, std::string_view msg,
                  std::chrono::system_clock::time_point t) {
  const int64_t second = second_of(t);
  s.key.assign(component);
  s.key.push_back('\0');
  s.key.append(msg);
  auto it = s.repeats.find(s.key);
  if (it == s.repeats.end()) {
    prune_locked(s, second);
    it = s.repeats.emplace(s.key, Repeat{std::string(component), std::string(msg)}).first;
    it->second.second = second;
  }

  Repeat& r = it->second;
  if (r.second != second) {
    r.second = second;
    r.count = 0;
  }
  if (r.count < kRepeatsPerSecond) {
    ++r.count;
    return true;
  }
  if (r.suppressed++ == 0) ++s.unreported;
  r.level = l;
  return false;
}

}  // namespace

Level from_config(config::LogLevel l) {
  static constexpr std::array<Level, 4> kFromConfig = {Level::debug, Level::info, Level::warn,
                                                       Level::error};
  return kFromConfig[static_cast<size_t>(l)];
}

std::string_view level_name(Level l) { return kLevelNames[static_cast<size_t>(l)]; }

bool init(Level min, const std::string& path, std::string* err) {
  // Open the new destination before touching the old one, so a bad path changes nothing.
  int fd = STDERR_FILENO;
  bool owns = false;
  if (path == "stdout") {
    fd = STDOUT_FILENO;
  } else if (path != "stderr") {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (err) *err = "log \"" + path + "\": " + std::generic_category().message(errno);
      return false;
    }
    owns = true;
  }

  Sink& s = sink();
  {
    std::lock_guard lock(s.mu);
    if (s.owns_fd) ::close(s.fd);
    s.fd = fd;
    s.owns_fd = owns;
  }
  g_min_level.store(static_cast<int>(min), std::memory_order_relaxed);
  return true;
}

void mirror_errors_to_stderr(bool on) {
  Sink& s = sink();
  std::lock_guard lock(s.mu);
  s.mirror_errors = on;
}

bool init(const config::LogConfig& cfg, std::string* err) {
  return init(from_config(cfg.level), cfg.path, err);
}

bool enabled(Level l) { return static_cast<int>(l) >= g_min_level.load(std::memory_order_relaxed); }

void emit(Level l, std::string_view component, std::string_view msg,
          std::initializer_list<Field> fields) {
  if (!enabled(l)) return;
  Sink& s = sink();
  std::lock_guard lock(s.mu);
  const auto t = now_locked(s);

  report_suppressed_locked(s, t);
  if (l >= Level::warn && !admit_locked(s, l, component, msg, t)) return;

  format_line_locked(s, t, l, component, msg, fields);
  write_line_locked(s, s.fd);
  if (l == Level::error && s.mirror_errors && s.fd != STDERR_FILENO)
    write_line_locked(s, STDERR_FILENO);
}

void report_suppressed() {
  Sink& s = sink();
  std::lock_guard lock(s.mu);
  report_suppressed_locked(s, now_locked(s));
}

void set_clock_for_test(ClockFn clock) {
  Sink& s = sink();
  std::lock_guard lock(s.mu);
  s.clock = clock;
  s.repeats.clear();
  s.unreported = 0;
}

}  // namespace basalt::observe::log
