// The immutable snapshot every worker serves from: the loaded config, its compiled route table
// and, per route, what the request path needs precomputed (upstream indexes of its targets,
// the body limit, header operations in wire form). Built once per config load on the main
// thread; workers only read it.
//
//   auto rt = gateway::Runtime::build(cfg);          // cfg: shared_ptr<const config::Config>
//   int i = rt->table->match(view);
//   const gateway::RouteRuntime& route = rt->routes[i];
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "router/router.h"

namespace basalt::gateway {

// A route's header operations, ready to apply while copying fields.
struct HeaderEdit {
  std::vector<std::string> drop;  // lower-case names removed (remove + names that `set` replaces)
  std::string append;             // "Name: value\r\n" lines for `set` and `add`

  bool drops(std::string_view name) const;
};

struct RouteRuntime {
  const config::RouteConfig* cfg = nullptr;
  std::vector<size_t> target_upstream;  // upstream index of each split target
  uint64_t max_body_bytes = 0;
  HeaderEdit request_edit;
  HeaderEdit response_edit;
};

struct Runtime {
  std::shared_ptr<const config::Config> cfg;
  std::shared_ptr<const router::Table> table;
  std::vector<RouteRuntime> routes;
  // The shortest timeout any connection can be given (limits and route timeouts). The
  // connection watchdog wakes at least this often, so moving a deadline never re-arms it.
  std::chrono::milliseconds shortest_timeout{1000};

  static std::shared_ptr<const Runtime> build(std::shared_ptr<const config::Config> cfg);
};

}  // namespace basalt::gateway
