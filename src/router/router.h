// The routing table: picks the route that serves a request, from an immutable table compiled
// once per config snapshot and shared by every worker. Also the load-time check that finds
// routes an earlier route makes unreachable.
//
// Precedence (docs/routing.md has the full rules and examples):
//  1. host groups, tried in order: routes listing the request host exactly; then routes with
//     a matching wildcard "*.suffix", longest suffix first; then routes listing no host;
//  2. within a group, routes in file order; the first whose path, methods and headers all
//     match wins; when none does, the next group is tried.
//
//   auto table = router::Table::compile(cfg);         // on config load, main thread
//   int i = table->match({method, host, path, &fields});  // per request, any thread
//   if (i < 0) return reply_404();
//   const config::RouteConfig& route = cfg.routes[i];
//   size_t target = table->split(i).pick(rng() % table->split(i).total());
//
//   for (const auto& d : router::find_shadowed(cfg)) warn(d.format());
#pragma once

#include <memory>
#include <vector>

#include "config/model.h"
#include "http/fields.h"
#include "router/split.h"

namespace basalt::router {

class Table {
 public:
  // Compiles cfg.routes; route i of cfg.routes keeps index i. Never throws on content: a
  // regex that does not compile (the loader refuses those) makes its route never match.
  static std::shared_ptr<const Table> compile(const config::Config& cfg);

  // Index into cfg.routes of the route that serves `req`, or -1 when none does.
  // `req.host` is lower-case without a port; `req.path` is normalized (http/path.h).
  // Safe to call from many threads at once; takes no lock and allocates nothing itself
  // (RE2 keeps its own lazily built, internally synchronized match cache).
  int match(const http::RequestView& req) const;

  // The weighted targets of route `index` (0 <= index < size()); empty for routes that
  // answer directly or redirect.
  const Split& split(int index) const;

  // Number of routes, equal to cfg.routes.size().
  size_t size() const;

  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

 private:
  struct Impl;
  explicit Table(std::unique_ptr<const Impl> impl);

  std::unique_ptr<const Impl> impl_;
};

// Routes that can never be selected because one earlier route, tried before them for every
// host they serve, matches every request they match. One diagnostic per shadowed route, at
// that route's position, naming the first such earlier route:
//   "route 'b' is shadowed by route 'a' (line 12) and can never match"
// Conservative: a route reported here is certainly unreachable; some unreachable routes
// (shadowed only by several routes together, or through regex reasoning) are not reported.
std::vector<config::Diagnostic> find_shadowed(const config::Config& cfg);

}  // namespace basalt::router
