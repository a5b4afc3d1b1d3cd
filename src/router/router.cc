#include "router/router.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "router/route_match.h"

namespace basalt::router {
namespace {

// Transparent hash so a request's host (a string_view) looks up without building a string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Route positions in file order.
using RouteList = std::vector<uint32_t>;
using HostIndex = std::unordered_map<std::string, RouteList, StringHash, std::equal_to<>>;

// Appends `route` unless the list already ends with it (a route naming a host twice).
void add_route(RouteList& list, uint32_t route) {
  if (list.empty() || list.back() != route) list.push_back(route);
}

}  // namespace

struct Table::Impl {
  struct Route {
    RouteMatcher matcher;
    Split split;
  };

  std::vector<Route> routes;  // same order and indexes as cfg.routes
  HostIndex exact_hosts;      // "api.example.com" -> routes listing it
  HostIndex wildcard_hosts;   // ".example.com" (from "*.example.com") -> routes listing it
  RouteList any_host;         // routes listing no host

  // First route of `list` that matches, or -1.
  int first_match(const RouteList& list, const http::RequestView& req) const {
    for (uint32_t i : list)
      if (routes[i].matcher.matches(req)) return static_cast<int>(i);
    return -1;
  }

  // Wildcard groups for `host`, longest suffix first: each '.' after the first character
  // starts a candidate suffix, and scanning left to right visits the longest first. The
  // first character is skipped so "*.example.com" never matches ".example.com" or
  // "example.com": the wildcard needs at least one character of its own.
  int match_wildcards(const http::RequestView& req) const {
    if (wildcard_hosts.empty()) return -1;
    const std::string_view host = req.host;
    for (size_t dot = host.find('.', 1); dot != std::string_view::npos;
         dot = host.find('.', dot + 1)) {
      const auto group = wildcard_hosts.find(host.substr(dot));
      if (group == wildcard_hosts.end()) continue;
      if (int r = first_match(group->second, req); r >= 0) return r;
    }
    return -1;
  }
};

Table::Table(std::unique_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Table::~Table() = default;

std::shared_ptr<const Table> Table::compile(const config::Config& cfg) {
  auto impl = std::make_unique<Impl>();
  impl->routes.reserve(cfg.routes.size());

  for (uint32_t i = 0; i < cfg.routes.size(); ++i) {
    const config::RouteConfig& route = cfg.routes[i];

    // Predicates and split.
    impl->routes.push_back({RouteMatcher::compile(route.match), Split(route.split)});

    // Host groups: walking routes in file order keeps every list in file order.
    if (route.match.hosts.empty()) add_route(impl->any_host, i);
    for (const std::string& pattern : route.match.hosts) {
      std::string host = ascii_lower(pattern);
      if (host.starts_with("*."))
        add_route(impl->wildcard_hosts[host.substr(1)], i);
      else
        add_route(impl->exact_hosts[host], i);
    }
  }
  return std::shared_ptr<const Table>(new Table(std::move(impl)));
}

int Table::match(const http::RequestView& req) const {
  const Impl& t = *impl_;

  // 1. Routes naming the host exactly.
  if (const auto group = t.exact_hosts.find(req.host); group != t.exact_hosts.end())
    if (int r = t.first_match(group->second, req); r >= 0) return r;

  // 2. Wildcard routes, longest suffix first.
  if (int r = t.match_wildcards(req); r >= 0) return r;

  // 3. Routes for any host.
  return t.first_match(t.any_host, req);
}

const Split& Table::split(int index) const { return impl_->routes[index].split; }

size_t Table::size() const { return impl_->routes.size(); }

}  // namespace basalt::router
