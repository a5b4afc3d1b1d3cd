// Typed reads from a positioned YAML tree, for the loader's section decoders.
//
// Every read either returns a value or reports one diagnostic at the value's position and
// returns nullopt, so a decoder can keep going past a bad value and the user sees every
// problem in one run. Maps are decoded through tables of keys (read_map), never if/else
// chains; a key missing from the table is an "unknown key" error.
//
//   constexpr std::array<Key<LogConfig>, 2> kLogKeys{{
//       {"level", false, [](Reader& r, const Entry& e, LogConfig& c) { ... }},
//       {"path", false, [](Reader& r, const Entry& e, LogConfig& c) { ... }},
//   }};
//   read_map(reader, value, "log", kLogKeys, config.log);
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/document.h"
#include "config/model.h"

namespace basalt::config {

class Reader {
 public:
  // `source` is the file's text, used to point regex errors at the offending character.
  explicit Reader(std::string_view source) : source_(source) {}

  void error(const SourcePos& pos, std::string message);
  std::vector<Diagnostic> take_errors() { return std::move(errors_); }

  // Records a name of some kind ("listener", "upstream", "route"); reports a duplicate at
  // `pos`, naming the line of the first one.
  void note_name(std::string_view kind, const std::string& name, const SourcePos& pos);

  // Shape checks: report "'key' must be a mapping/list" and return false.
  bool expect_map(const Value& v, std::string_view key);
  bool expect_sequence(const Value& v, std::string_view key);

  // Scalar reads. `key` names the value in messages.
  std::optional<std::string> string(const Value& v, std::string_view key);
  std::optional<std::string> nonempty_string(const Value& v, std::string_view key);
  std::optional<bool> boolean(const Value& v, std::string_view key);
  std::optional<uint64_t> integer(const Value& v, std::string_view key, uint64_t min, uint64_t max);
  // allow_zero: whether "0" is meaningful for this setting.
  std::optional<Duration> duration(const Value& v, std::string_view key, bool allow_zero);
  std::optional<uint64_t> size(const Value& v, std::string_view key, uint64_t min, uint64_t max);
  std::optional<HostPort> address(const Value& v, std::string_view key, bool allow_port_0);
  // An HTTP token (header name, method); lower- or upper-cased as asked.
  enum class Case { lower, upper };
  std::optional<std::string> token(const Value& v, std::string_view key, Case to);
  // A header value: any text without CR, LF or NUL (those would split the message).
  std::optional<std::string> field_value(const Value& v, std::string_view key);
  // An RE2 pattern that compiles; on error points at the offending part when it can.
  std::optional<std::string> regex(const Value& v, std::string_view key);

  // One of a fixed set of words.
  template <class E, size_t N>
  std::optional<E> choice(const Value& v, std::string_view key,
                          const std::array<std::pair<std::string_view, E>, N>& options) {
    auto text = string(v, key);
    if (!text) return std::nullopt;
    for (const auto& [word, value] : options)
      if (word == *text) return value;
    std::string allowed;
    for (const auto& [word, value] : options)
      allowed += (allowed.empty() ? "" : ", ") + std::string(word);
    error(v.pos, "'" + std::string(key) + "' must be one of " + allowed + ", got '" + *text + "'");
    return std::nullopt;
  }

 private:
  // A scalar's text, or nullopt after reporting that it is not a scalar.
  const std::string* scalar(const Value& v, std::string_view key);
  SourcePos regex_error_pos(const Value& v, std::string_view fragment) const;

  std::string_view source_;
  std::vector<Diagnostic> errors_;
  std::map<std::pair<std::string, std::string>, SourcePos, std::less<>> names_;
};

// One entry of a key table: `read` decodes the entry's value into the target object.
template <class T>
struct Key {
  std::string_view name;
  bool required;
  void (*read)(Reader&, const Entry&, T&);
};

// Decodes map `v` (described as `what` in messages) into `out` with `keys`: unknown keys
// and missing required keys are reported; known keys are read in file order.
template <class T, size_t N>
void read_map(Reader& r, const Value& v, std::string_view what, const std::array<Key<T>, N>& keys,
              T& out) {
  if (!r.expect_map(v, what)) return;
  for (const Entry& e : v.entries) {
    const Key<T>* key = nullptr;
    for (const auto& k : keys)
      if (k.name == e.key) key = &k;
    if (key)
      key->read(r, e, out);
    else
      r.error(e.key_pos, "unknown key '" + e.key + "' in " + std::string(what));
  }
  for (const auto& k : keys) {
    if (!k.required) continue;
    bool present = false;
    for (const Entry& e : v.entries) present = present || e.key == k.name;
    if (!present)
      r.error(v.pos, "missing key '" + std::string(k.name) + "' in " + std::string(what));
  }
}

// Decodes each item of sequence `v` with `read_item`, appending to `out`.
template <class T, class F>
void read_list(Reader& r, const Value& v, std::string_view key, std::vector<T>& out, F read_item) {
  if (!r.expect_sequence(v, key)) return;
  for (const Value& item : v.items) {
    T decoded{};
    read_item(r, item, decoded);
    out.push_back(std::move(decoded));
  }
}

// Stores a successful read into a model field.
template <class Field, class V>
void assign(Field& field, const std::optional<V>& read) {
  if (read) field = static_cast<Field>(*read);
}

constexpr uint64_t kU32Max = std::numeric_limits<uint32_t>::max();

// The largest weight of an endpoint or a split target. A million shares is finer than any
// traffic split needs, and keeps the sum of a split's weights far inside 32 bits.
constexpr uint64_t kMaxWeight = 1'000'000;

// The longest duration any setting takes: 30 days. Deadlines are steady-clock time points in
// nanoseconds, so a duration of centuries would overflow one; no timeout needs more than this.
constexpr Duration kMaxDuration = std::chrono::hours(24 * 30);

// The largest request head `max_header_bytes` may allow: 1 MiB, far above what browsers send
// (nginx's default is 4 × 8 KiB), and every connection may buffer this much.
constexpr uint64_t kMaxHeaderBytes = uint64_t{1} << 20;

// The most worker threads `workers:` may ask for.
constexpr uint64_t kMaxWorkers = 1024;

}  // namespace basalt::config
