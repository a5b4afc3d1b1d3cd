#include "config/substitute.h"

#include <cstdlib>

namespace basalt::config {
namespace {

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool valid_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front())) return false;
  for (char c : name)
    if (!is_name_char(c)) return false;
  return true;
}

// Resolves the inside of one "${...}" into `out`; returns an error message on failure.
std::optional<std::string> resolve(std::string_view body, const EnvLookup& lookup,
                                   std::string& out) {
  // Split "NAME:-default".
  std::string_view name = body;
  std::optional<std::string_view> fallback;
  if (size_t sep = body.find(":-"); sep != std::string_view::npos) {
    name = body.substr(0, sep);
    fallback = body.substr(sep + 2);
  }
  if (!valid_name(name)) return "invalid variable name '" + std::string(name) + "' in ${...}";
  if (fallback && fallback->find("${") != std::string_view::npos)
    return "a ${...} default may not contain another ${...}";

  // Prefer a non-empty value, then the default; an unset name without default is an error.
  std::optional<std::string> value = lookup(name);
  if (value && (!value->empty() || !fallback)) {
    out += *value;
  } else if (fallback) {
    out += *fallback;
  } else {
    return "environment variable '" + std::string(name) + "' is not set (write ${" +
           std::string(name) + ":-default} to allow that)";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> getenv_lookup(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

Expansion expand_env(std::string_view text, const EnvLookup& lookup) {
  Expansion result;
  result.text.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      result.text += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      result.text += text[i++];
      continue;
    }

    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      result.error = "unterminated '${' (missing '}'; write $${ for a literal ${)";
      return result;
    }
    if (auto err = resolve(text.substr(i + 2, close - i - 2), lookup, result.text)) {
      result.error = std::move(err);
      return result;
    }
    result.had_reference = true;
    i = close + 1;
  }
  return result;
}

}  // namespace basalt::config
