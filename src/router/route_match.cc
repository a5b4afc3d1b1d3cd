#include "router/route_match.h"

#include <algorithm>

#include "http/path.h"

namespace basalt::router {
namespace {

// nullptr when the pattern does not compile; the caller marks the route as never matching.
std::unique_ptr<RE2> compile_regex(const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) return nullptr;
  return re;
}

HeaderPredicate compile_header(const config::HeaderMatch& h) {
  HeaderPredicate p;
  p.name = ascii_lower(h.name);
  if (h.exact) {
    p.kind = HeaderKind::exact;
    p.value = *h.exact;
  } else if (h.regex) {
    p.kind = HeaderKind::regex;
    p.value = *h.regex;
    p.regex = compile_regex(p.value);
  } else {
    p.kind = h.present.value_or(true) ? HeaderKind::present : HeaderKind::absent;
  }
  return p;
}

}  // namespace

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return out;
}

bool prefix_matches(std::string_view prefix, std::string_view path) {
  if (prefix == "/") return true;
  if (!path.starts_with(prefix)) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::string canonical_path(std::string_view path) {
  if (path.find('?') != std::string_view::npos) return std::string(path);
  std::string out;
  std::string_view query;
  if (http::normalize_target(path, out, query) != http::PathError::none) return std::string(path);
  return out;
}

std::string canonical_prefix(std::string_view prefix) {
  std::string out = prefix.empty() ? std::string("/") : canonical_path(prefix);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

bool PathMatcher::matches(std::string_view path) const {
  switch (kind) {
    case PathKind::exact:
      return path == text;
    case PathKind::prefix:
      return prefix_matches(text, path);
    case PathKind::regex:
      return regex != nullptr && RE2::FullMatch(path, *regex);
  }
  return false;
}

bool HeaderPredicate::matches(const http::FieldList* fields) const {
  const std::optional<std::string_view> first =
      fields != nullptr ? fields->find(name) : std::nullopt;
  switch (kind) {
    case HeaderKind::exact:
      return first && *first == value;
    case HeaderKind::regex:
      return first && regex != nullptr && RE2::FullMatch(*first, *regex);
    case HeaderKind::present:
      return first.has_value();
    case HeaderKind::absent:
      return !first.has_value();
  }
  return false;
}

RouteMatcher RouteMatcher::compile(const config::RouteMatch& match) {
  RouteMatcher m;

  // Path matchers, in a fixed order so the shadow analysis sees them the same way.
  if (match.path) m.paths.push_back({PathKind::exact, canonical_path(*match.path), nullptr});
  if (match.path_prefix)
    m.paths.push_back({PathKind::prefix, canonical_prefix(*match.path_prefix), nullptr});
  if (match.path_regex) {
    auto re = compile_regex(*match.path_regex);
    m.can_match = m.can_match && re != nullptr;
    m.paths.push_back({PathKind::regex, *match.path_regex, std::move(re)});
  }

  // Methods and header predicates.
  m.methods = match.methods;
  for (const auto& h : match.headers) {
    m.headers.push_back(compile_header(h));
    if (m.headers.back().kind == HeaderKind::regex && m.headers.back().regex == nullptr)
      m.can_match = false;
  }
  return m;
}

bool RouteMatcher::matches(const http::RequestView& req) const {
  // Cheapest tests first: a method miss skips any regex work.
  if (!can_match) return false;
  if (!methods.empty() && std::find(methods.begin(), methods.end(), req.method) == methods.end())
    return false;
  for (const auto& p : paths)
    if (!p.matches(req.path)) return false;
  for (const auto& h : headers)
    if (!h.matches(req.fields)) return false;
  return true;
}

}  // namespace basalt::router
