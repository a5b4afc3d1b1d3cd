// Runtime snapshot construction. See runtime.h.
#include "gateway/runtime.h"

#include <algorithm>

#include "http/fields.h"

namespace basalt::gateway {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

HeaderEdit compile_edit(const config::HeaderOps& ops) {
  HeaderEdit e;
  for (const auto& name : ops.remove) e.drop.push_back(lower(name));
  for (const auto& [name, value] : ops.set) {
    e.drop.push_back(lower(name));
    e.append += name + ": " + value + "\r\n";
  }
  for (const auto& [name, value] : ops.add) e.append += name + ": " + value + "\r\n";
  return e;
}

}  // namespace

bool HeaderEdit::drops(std::string_view name) const {
  for (const auto& d : drop)
    if (http::iequals(d, name)) return true;
  return false;
}

std::shared_ptr<const Runtime> Runtime::build(std::shared_ptr<const config::Config> cfg) {
  auto rt = std::make_shared<Runtime>();
  rt->cfg = cfg;
  rt->table = router::Table::compile(*cfg);
  for (const auto& route : cfg->routes) {
    RouteRuntime r;
    r.cfg = &route;
    for (const auto& t : route.split) {
      for (size_t u = 0; u < cfg->upstreams.size(); ++u)
        if (cfg->upstreams[u].name == t.upstream) r.target_upstream.push_back(u);
    }
    r.max_body_bytes = route.max_body_bytes.value_or(cfg->limits.max_body_bytes);
    r.request_edit = compile_edit(route.request_headers);
    r.response_edit = compile_edit(route.response_headers);
    rt->routes.push_back(std::move(r));
  }
  const auto& l = cfg->limits;
  auto shortest = std::min({l.header_timeout, l.read_timeout, l.idle_timeout});
  for (const auto& route : cfg->routes) shortest = std::min(shortest, route.timeout);
  rt->shortest_timeout = std::max(shortest, config::Duration(1));
  return rt;
}

}  // namespace basalt::gateway
