#include "config/document.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace basalt::config {
namespace {

// yaml-cpp shares aliased nodes and lets an alias refer to its own ancestor, so copying
// them into a tree could grow exponentially ("billion laughs") or forever. A real config is
// a few thousand nodes (a thousand routes stay far below the cap), about eight levels deep.
constexpr size_t kMaxNodes = 250'000;
constexpr int kMaxDepth = 64;

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most
// U+10FFFF). YAML text is Unicode; a config value is shown as JSON by the admin listener.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

class TreeBuilder {
 public:
  TreeBuilder(const std::string& file, Expand mode, const EnvLookup& lookup)
      : file_(file), mode_(mode), lookup_(lookup) {}

  Value build(const YAML::Node& node, const SourcePos& fallback, int depth = 0) {
    Value out;
    out.pos = position(node, fallback);
    if (!within_limits(out.pos, depth)) {
      out.invalid = true;
      return out;
    }
    switch (node.Type()) {
      case YAML::NodeType::Scalar:
        build_scalar(node, out);
        break;
      case YAML::NodeType::Sequence:
        build_sequence(node, out, depth);
        break;
      case YAML::NodeType::Map:
        build_map(node, out, depth);
        break;
      default:
        break;  // Null and Undefined stay null
    }
    return out;
  }

  std::vector<Diagnostic> take_errors() { return std::move(errors_); }

 private:
  SourcePos position(const YAML::Node& node, const SourcePos& fallback) const {
    YAML::Mark m = node.Mark();
    if (m.line < 0 || node.IsNull()) return fallback;
    return SourcePos{file_, m.line + 1, m.column + 1};
  }

  void error(const SourcePos& pos, std::string message) {
    errors_.push_back(Diagnostic{pos, std::move(message)});
  }

  // Counts one more node; reports the first time a limit is crossed.
  bool within_limits(const SourcePos& pos, int depth) {
    if (over_limit_) return false;
    if (++nodes_ > kMaxNodes)
      error(pos, "document too large after alias expansion");
    else if (depth > kMaxDepth)
      error(pos, "values nested too deeply (a self-referring alias?)");
    else
      return true;
    over_limit_ = true;
    return false;
  }

  void build_scalar(const YAML::Node& node, Value& out) {
    out.kind = Value::Kind::scalar;
    // yaml-cpp tags plain scalars "?" and quoted/block ones "!".
    const std::string& tag = node.Tag();
    out.quoted = tag == "!" || tag == "tag:yaml.org,2002:str";
    if (mode_ == Expand::keep) {
      out.text = node.Scalar();
      out.has_reference = node.Scalar().find("${") != std::string::npos;
      return;
    }
    Expansion e = expand_env(node.Scalar(), lookup_);
    if (e.error) {
      error(out.pos, *e.error);
      out.invalid = true;
      out.text = node.Scalar();
      return;
    }
    out.text = std::move(e.text);
    out.has_reference = e.had_reference;
    if (!valid_utf8(out.text)) {
      error(out.pos, "the value is not valid UTF-8");
      out.invalid = true;
    }
  }

  void build_sequence(const YAML::Node& node, Value& out, int depth) {
    out.kind = Value::Kind::sequence;
    for (const auto& item : node) out.items.push_back(build(item, out.pos, depth + 1));
  }

  void build_map(const YAML::Node& node, Value& out, int depth) {
    out.kind = Value::Kind::map;
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      Entry e;
      e.key_pos = position(it->first, out.pos);
      if (!it->first.IsScalar()) {
        error(e.key_pos, "map keys must be plain strings");
        continue;
      }
      e.key = it->first.Scalar();
      if (!valid_utf8(e.key)) {
        error(e.key_pos, "the key is not valid UTF-8");
        continue;
      }
      if (!seen.insert(e.key).second) error(e.key_pos, "duplicate key '" + e.key + "'");
      e.value = build(it->second, e.key_pos, depth + 1);
      out.entries.push_back(std::move(e));
    }
  }

  const std::string& file_;
  Expand mode_;
  const EnvLookup& lookup_;
  size_t nodes_ = 0;
  bool over_limit_ = false;
  std::vector<Diagnostic> errors_;
};

// YAML 1.2 core schema resolution of a plain scalar.
constexpr std::array<std::string_view, 5> kNulls{"", "~", "null", "Null", "NULL"};
constexpr std::array<std::string_view, 3> kTrues{"true", "True", "TRUE"};
constexpr std::array<std::string_view, 3> kFalses{"false", "False", "FALSE"};

template <size_t N>
bool one_of(const std::array<std::string_view, N>& set, std::string_view s) {
  for (auto x : set)
    if (x == s) return true;
  return false;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// [-+]?[0-9]+, or 0o / 0x forms; nullopt if not an integer or out of range.
std::optional<nlohmann::json> as_integer(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    base = s[1] == 'o' ? 8 : 16;
    s.remove_prefix(2);
  }
  bool negative = base == 10 && !s.empty() && s.front() == '-';
  if (base == 10 && !s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  if (s.empty()) return std::nullopt;

  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude, base);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  if (!negative) return nlohmann::json(magnitude);
  if (magnitude > uint64_t{1} << 63) return std::nullopt;
  return nlohmann::json(static_cast<int64_t>(0 - magnitude));
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?; infinities and NaN have no JSON form.
std::optional<nlohmann::json> as_float(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;

  // from_chars takes no leading '+'.
  std::string_view body = s.front() == '+' ? s.substr(1) : s;
  double v = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec != std::errc{} || end != body.data() + body.size()) return std::nullopt;
  return nlohmann::json(v);
}

nlohmann::json scalar_json(const Value& v) {
  if (v.quoted) return v.text;
  if (one_of(kNulls, v.text)) return nullptr;
  if (one_of(kTrues, v.text)) return true;
  if (one_of(kFalses, v.text)) return false;
  if (auto n = as_integer(v.text)) return *n;
  if (auto f = as_float(v.text)) return *f;
  return v.text;
}

}  // namespace

Document parse_document(std::string_view yaml, const std::string& file, Expand mode,
                        const EnvLookup& lookup) {
  Document doc;
  YAML::Node root;
  try {
    // One file is one config: a second document after '---' would otherwise be ignored.
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(yaml));
    // Empty documents (a "---" at the end, say) hold nothing to ignore.
    auto extra = std::find_if(documents.begin() + (documents.empty() ? 0 : 1), documents.end(),
                              [](const YAML::Node& d) { return !d.IsNull(); });
    if (extra != documents.end()) {
      const YAML::Mark mark = extra->Mark();
      SourcePos pos{file, mark.line + 1, mark.column + 1};
      if (mark.line < 0) pos = SourcePos{file, 0, 0};
      doc.errors.push_back(
          Diagnostic{pos, "a second YAML document ('---'); a config file holds exactly one"});
      return doc;
    }
    if (!documents.empty()) root = documents.front();
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports a syntax error with a 0-based mark, or -1 when it has none.
    SourcePos pos{file, e.mark.line + 1, e.mark.column + 1};
    if (e.mark.line < 0) pos = SourcePos{file, 0, 0};
    doc.errors.push_back(Diagnostic{pos, "YAML syntax error: " + e.msg});
    return doc;
  }

  TreeBuilder builder(file, mode, lookup);
  doc.root = builder.build(root, SourcePos{file, 1, 1});
  doc.errors = builder.take_errors();
  doc.parsed = true;
  return doc;
}

nlohmann::json to_json(const Value& value, bool redact) {
  switch (value.kind) {
    case Value::Kind::null:
      return nullptr;
    case Value::Kind::scalar:
      if (redact && value.has_reference) return "<redacted>";
      return scalar_json(value);
    case Value::Kind::sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : value.items) out.push_back(to_json(item, redact));
      return out;
    }
    case Value::Kind::map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& e : value.entries) out[e.key] = to_json(e.value, redact);
      return out;
    }
  }
  return nullptr;
}

}  // namespace basalt::config
