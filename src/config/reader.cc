#include "config/reader.h"

#include <re2/re2.h>

#include <charconv>

#include "config/address.h"
#include "config/units.h"

namespace basalt::config {
namespace {

std::string quote(std::string_view key) { return "'" + std::string(key) + "'"; }

std::string got(const std::string& text) { return ", got '" + text + "'"; }

// RFC 9110 tchar.
bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::null:
      return "empty";
    case Value::Kind::scalar:
      return "a single value";
    case Value::Kind::sequence:
      return "a list";
    case Value::Kind::map:
      return "a mapping";
  }
  return "";
}

std::string_view line_of(std::string_view source, int line) {
  for (int i = 1; i < line; ++i) {
    size_t nl = source.find('\n');
    if (nl == std::string_view::npos) return {};
    source.remove_prefix(nl + 1);
  }
  return source.substr(0, source.find('\n'));
}

}  // namespace

void Reader::error(const SourcePos& pos, std::string message) {
  errors_.push_back(Diagnostic{pos, std::move(message)});
}

void Reader::note_name(std::string_view kind, const std::string& name, const SourcePos& pos) {
  auto [it, inserted] = names_.try_emplace({std::string(kind), name}, pos);
  if (inserted) return;
  error(pos, "duplicate " + std::string(kind) + " name '" + name + "' (first defined at line " +
                 std::to_string(it->second.line) + ")");
}

bool Reader::expect_map(const Value& v, std::string_view key) {
  if (v.is_map()) return true;
  if (!v.invalid)
    error(v.pos, quote(key) + " must be a mapping, but it is " + std::string(kind_name(v.kind)));
  return false;
}

bool Reader::expect_sequence(const Value& v, std::string_view key) {
  if (v.is_sequence()) return true;
  if (!v.invalid)
    error(v.pos, quote(key) + " must be a list, but it is " + std::string(kind_name(v.kind)));
  return false;
}

const std::string* Reader::scalar(const Value& v, std::string_view key) {
  if (v.invalid) return nullptr;
  if (v.is_scalar()) return &v.text;
  if (v.is_null())
    error(v.pos, quote(key) + " has no value");
  else
    error(v.pos,
          quote(key) + " must be a single value, but it is " + std::string(kind_name(v.kind)));
  return nullptr;
}

std::optional<std::string> Reader::string(const Value& v, std::string_view key) {
  const std::string* text = scalar(v, key);
  if (!text) return std::nullopt;
  return *text;
}

std::optional<std::string> Reader::nonempty_string(const Value& v, std::string_view key) {
  auto text = string(v, key);
  if (text && text->empty()) {
    error(v.pos, quote(key) + " must not be empty");
    return std::nullopt;
  }
  return text;
}

std::optional<bool> Reader::boolean(const Value& v, std::string_view key) {
  const std::string* text = scalar(v, key);
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "True" || *text == "TRUE") return true;
  if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  error(v.pos, quote(key) + " must be true or false" + got(*text));
  return std::nullopt;
}

std::optional<uint64_t> Reader::integer(const Value& v, std::string_view key, uint64_t min,
                                        uint64_t max) {
  const std::string* text = scalar(v, key);
  if (!text) return std::nullopt;
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  bool parsed = !text->empty() && ec == std::errc{} && end == text->data() + text->size();
  if (parsed && n >= min && n <= max) return n;

  std::string range = max == kU32Max || max == std::numeric_limits<uint64_t>::max()
                          ? "an integer >= " + std::to_string(min)
                          : "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  error(v.pos, quote(key) + " must be " + range + got(*text));
  return std::nullopt;
}

std::optional<Duration> Reader::duration(const Value& v, std::string_view key, bool allow_zero) {
  const std::string* text = scalar(v, key);
  if (!text) return std::nullopt;
  auto d = parse_duration(*text);
  if (!d) {
    error(v.pos, quote(key) +
                     " must be a whole number of milliseconds with a unit (ms, s, m or h), like "
                     "250ms or 1.5s" +
                     got(*text));
    return std::nullopt;
  }
  if (*d > kMaxDuration) {
    error(v.pos, quote(key) + " must be at most 720h (30 days)" + got(*text));
    return std::nullopt;
  }
  if (!allow_zero && d->count() == 0) {
    error(v.pos, quote(key) + " must be greater than 0");
    return std::nullopt;
  }
  return d;
}

std::optional<uint64_t> Reader::size(const Value& v, std::string_view key, uint64_t min,
                                     uint64_t max) {
  const std::string* text = scalar(v, key);
  if (!text) return std::nullopt;
  auto n = parse_size(*text);
  if (!n) {
    error(v.pos, quote(key) +
                     " must be a size in bytes, optionally with KiB, MiB, GiB or TiB, like 64KiB" +
                     got(*text));
    return std::nullopt;
  }
  if (*n < min) {
    error(v.pos, quote(key) + " must be at least " + std::to_string(min) + " bytes" + got(*text));
    return std::nullopt;
  }
  if (*n > max) {
    error(v.pos, quote(key) + " is too large (at most " + std::to_string(max) + " bytes)");
    return std::nullopt;
  }
  return n;
}

std::optional<HostPort> Reader::address(const Value& v, std::string_view key, bool allow_port_0) {
  const std::string* text = scalar(v, key);
  if (!text) return std::nullopt;
  std::string why;
  auto hp = parse_host_port(*text, &why);
  if (!hp) {
    error(v.pos, "invalid " + quote(key) + " '" + *text + "': " + why);
    return std::nullopt;
  }
  if (!allow_port_0 && hp->port == 0) {
    error(v.pos, "invalid " + quote(key) + " '" + *text + "': port 0 is not allowed here");
    return std::nullopt;
  }
  return hp;
}

std::optional<std::string> Reader::token(const Value& v, std::string_view key, Case to) {
  auto text = string(v, key);
  if (!text) return std::nullopt;
  bool ok = !text->empty();
  for (char c : *text) ok = ok && is_tchar(c);
  if (!ok) {
    error(v.pos,
          quote(key) + " must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)" + got(*text));
    return std::nullopt;
  }
  for (char& c : *text) {
    if (to == Case::lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (to == Case::upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return text;
}

std::optional<std::string> Reader::field_value(const Value& v, std::string_view key) {
  auto text = string(v, key);
  if (text && text->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    error(v.pos, quote(key) + " must not contain CR, LF or NUL characters");
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> Reader::regex(const Value& v, std::string_view key) {
  auto text = string(v, key);
  if (!text) return std::nullopt;
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(*text, options);
  if (re.ok()) return text;
  error(regex_error_pos(v, re.error_arg()),
        "invalid regular expression in " + quote(key) + ": " + re.error());
  return std::nullopt;
}

// Points at `fragment` inside the pattern when the pattern is written literally on one line
// (no escapes, no ${...}); otherwise at the start of the value.
SourcePos Reader::regex_error_pos(const Value& v, std::string_view fragment) const {
  if (v.has_reference || fragment.empty() || v.pos.line <= 0) return v.pos;
  std::string_view line = line_of(source_, v.pos.line);
  size_t start = static_cast<size_t>(v.pos.column - 1);
  if (start < line.size() && (line[start] == '"' || line[start] == '\'')) ++start;
  if (line.substr(start, v.text.size()) != v.text) return v.pos;
  size_t at = v.text.find(fragment);
  if (at == std::string::npos) return v.pos;
  SourcePos pos = v.pos;
  pos.column = static_cast<int>(start + at + 1);
  return pos;
}

}  // namespace basalt::config
