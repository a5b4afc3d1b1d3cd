// find_shadowed (declared in router.h): route B is reported when one earlier route A is
// tried before B for every host B serves and matches every request B matches. Each check
// below answers "does A's predicate hold for every request B's predicates admit?" and says
// no whenever it cannot prove yes, so a report is never false.

#include <algorithm>
#include <string>
#include <vector>

#include "router/route_match.h"
#include "router/router.h"

namespace basalt::router {
namespace {

struct RouteFacts {
  std::vector<std::string> hosts;  // lower-case patterns as written
  RouteMatcher matcher;
};

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// A (earlier in the file) is tried before B for every host B serves. A host-less A is tried
// after every host group, so it never beats a B that names hosts. Otherwise A must name every
// host pattern B names: B is first tried through its best pattern for a host, and A, holding
// the same pattern, sits in the same group ahead of B in file order. A broader A wildcard
// does not help, since B's longer suffix is tried first.
bool hosts_cover(const RouteFacts& a, const RouteFacts& b) {
  if (b.hosts.empty()) return a.hosts.empty();
  if (a.hosts.empty()) return false;
  return std::all_of(b.hosts.begin(), b.hosts.end(),
                     [&](const std::string& h) { return contains(a.hosts, h); });
}

// Every method B accepts, A accepts.
bool methods_cover(const RouteMatcher& a, const RouteMatcher& b) {
  if (a.methods.empty()) return true;
  if (b.methods.empty()) return false;
  return std::all_of(b.methods.begin(), b.methods.end(),
                     [&](const std::string& m) { return contains(a.methods, m); });
}

// Every path `b` admits, `a` admits.
bool path_covers(const PathMatcher& a, const PathMatcher& b) {
  switch (a.kind) {
    case PathKind::prefix:
      if (b.kind == PathKind::regex) return a.text == "/";
      return prefix_matches(a.text, b.text);
    case PathKind::exact:
      return b.kind == PathKind::exact && a.text == b.text;
    case PathKind::regex:
      if (a.regex == nullptr) return false;
      if (b.kind == PathKind::regex) return a.text == b.text;
      return b.kind == PathKind::exact && RE2::FullMatch(b.text, *a.regex);
  }
  return false;
}

// Every A path matcher holds for each path B admits: B admits only paths that pass all its
// matchers, so one B matcher that `a` covers is enough. An A with no path matcher admits all;
// a B with none admits all, which only the "/" prefix covers.
bool paths_cover(const RouteMatcher& a, const RouteMatcher& b) {
  return std::all_of(a.paths.begin(), a.paths.end(), [&](const PathMatcher& pa) {
    if (b.paths.empty()) return pa.kind == PathKind::prefix && pa.text == "/";
    return std::any_of(b.paths.begin(), b.paths.end(),
                       [&](const PathMatcher& pb) { return path_covers(pa, pb); });
  });
}

// A request passing B's predicate `q` passes A's predicate `p`.
bool header_implies(const HeaderPredicate& q, const HeaderPredicate& p) {
  if (q.name != p.name) return false;
  switch (p.kind) {
    case HeaderKind::present:
      return q.kind != HeaderKind::absent;
    case HeaderKind::absent:
      return q.kind == HeaderKind::absent;
    case HeaderKind::exact:
      return q.kind == HeaderKind::exact && q.value == p.value;
    case HeaderKind::regex:
      if (p.regex == nullptr) return false;
      if (q.kind == HeaderKind::regex) return q.value == p.value;
      return q.kind == HeaderKind::exact && RE2::FullMatch(q.value, *p.regex);
  }
  return false;
}

bool headers_cover(const RouteMatcher& a, const RouteMatcher& b) {
  return std::all_of(a.headers.begin(), a.headers.end(), [&](const HeaderPredicate& p) {
    return std::any_of(b.headers.begin(), b.headers.end(),
                       [&](const HeaderPredicate& q) { return header_implies(q, p); });
  });
}

bool shadows(const RouteFacts& a, const RouteFacts& b) {
  return a.matcher.can_match && hosts_cover(a, b) && methods_cover(a.matcher, b.matcher) &&
         headers_cover(a.matcher, b.matcher) && paths_cover(a.matcher, b.matcher);
}

std::string describe(const config::RouteConfig& route, size_t index) {
  if (route.name.empty()) return "route #" + std::to_string(index);
  return "route '" + route.name + "'";
}

config::Diagnostic shadow_diagnostic(const config::Config& cfg, size_t shadowed, size_t by) {
  const config::RouteConfig& b = cfg.routes[shadowed];
  const config::RouteConfig& a = cfg.routes[by];
  std::string message = describe(b, shadowed) + " is shadowed by " + describe(a, by);
  if (a.pos.line > 0) message += " (line " + std::to_string(a.pos.line) + ")";
  message += " and can never match";
  return {b.pos, std::move(message)};
}

}  // namespace

std::vector<config::Diagnostic> find_shadowed(const config::Config& cfg) {
  // Compile every route once; the pairwise checks below only read.
  std::vector<RouteFacts> facts;
  facts.reserve(cfg.routes.size());
  for (const auto& route : cfg.routes) {
    RouteFacts f{{}, RouteMatcher::compile(route.match)};
    for (const auto& h : route.match.hosts) f.hosts.push_back(ascii_lower(h));
    facts.push_back(std::move(f));
  }

  // Each route against the routes before it; the first one that shadows it is named.
  std::vector<config::Diagnostic> out;
  for (size_t b = 0; b < facts.size(); ++b) {
    if (!facts[b].matcher.can_match) continue;  // already refused by the loader
    for (size_t a = 0; a < b; ++a) {
      if (!shadows(facts[a], facts[b])) continue;
      out.push_back(shadow_diagnostic(cfg, b, a));
      break;
    }
  }
  return out;
}

}  // namespace basalt::router
