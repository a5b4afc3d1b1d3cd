// A route's match predicates (path, methods, headers) compiled once: regexes built with RE2,
// prefixes put in canonical form. It is the unit both the routing Table and the shadow
// analysis work on, so the two can never disagree about what a route matches. Host
// selection is not here: the Table indexes hosts itself (see router.h).
//
//   router::RouteMatcher m = router::RouteMatcher::compile(route.match);
//   if (m.matches(request)) serve(route);
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "http/fields.h"

namespace basalt::router {

// Segment-aware prefix test on a normalized path: "/users" matches "/users", "/users/" and
// "/users/42" but not "/usersx"; "/" matches every path. `prefix` must be canonical (see
// canonical_prefix).
bool prefix_matches(std::string_view prefix, std::string_view path);

// Host patterns and header names are ASCII; configured ones are lower-cased once, here.
std::string ascii_lower(std::string_view s);

// A configured exact path in the form request paths take after http::normalize_target
// ("/%7Euser/./a" becomes "/~user/a"), so a route matches what its author wrote. A path the
// normalizer refuses, or one holding '?', is kept as written: no request path can equal it.
std::string canonical_path(std::string_view path);

// A configured prefix as routes match it: canonical_path, then trailing '/' dropped except
// for "/" itself; "" means "/".
std::string canonical_prefix(std::string_view prefix);

enum class PathKind { exact, prefix, regex };

struct PathMatcher {
  PathKind kind = PathKind::exact;
  std::string text;            // the exact path, canonical prefix or regex source
  std::unique_ptr<RE2> regex;  // set for PathKind::regex when the pattern compiled

  bool matches(std::string_view path) const;
};

enum class HeaderKind { exact, regex, present, absent };

struct HeaderPredicate {
  HeaderKind kind = HeaderKind::present;
  std::string name;   // lower-case
  std::string value;  // the exact value or regex source
  std::unique_ptr<RE2> regex;

  // Exact and regex look at the first value of the header only; a missing header fails both.
  bool matches(const http::FieldList* fields) const;
};

struct RouteMatcher {
  // Every path matcher must match (the loader allows one; several are ANDed). None: any.
  std::vector<PathMatcher> paths;
  std::vector<std::string> methods;  // upper-case, compared exactly; empty: any method
  std::vector<HeaderPredicate> headers;
  // False when a regex did not compile: the route never matches. The loader refuses such
  // files, so this only guards a Table built from an unchecked model.
  bool can_match = true;

  // Never throws. Regex patterns are compiled with RE2 defaults and errors not logged.
  static RouteMatcher compile(const config::RouteMatch& match);

  // Path, methods and headers; `req.path` must be normalized (http/path.h).
  bool matches(const http::RequestView& req) const;
};

}  // namespace basalt::router
