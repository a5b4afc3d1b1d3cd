// Test helper: builds config::RouteConfig values in one expression, so router tests state
// only the fields they are about and never depend on the YAML loader.
//
//   config::Config cfg = config_of({
//       route("users").prefix("/users").methods({"GET"}),
//       route("admin").host("admin.example.com").exact("/"),
//   });
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "config/model.h"

namespace basalt::router::testing {

class RouteBuilder {
 public:
  explicit RouteBuilder(std::string name) { r_.name = std::move(name); }

  RouteBuilder& line(int n) {
    r_.pos = {"basalt.yaml", n, 3};
    return *this;
  }
  RouteBuilder& host(std::string h) {
    r_.match.hosts.push_back(std::move(h));
    return *this;
  }
  RouteBuilder& exact(std::string p) {
    r_.match.path = std::move(p);
    return *this;
  }
  RouteBuilder& prefix(std::string p) {
    r_.match.path_prefix = std::move(p);
    return *this;
  }
  RouteBuilder& regex(std::string p) {
    r_.match.path_regex = std::move(p);
    return *this;
  }
  RouteBuilder& methods(std::initializer_list<const char*> ms) {
    for (const char* m : ms) r_.match.methods.emplace_back(m);
    return *this;
  }
  RouteBuilder& header_exact(std::string name, std::string value) {
    config::HeaderMatch h;
    h.name = std::move(name);
    h.exact = std::move(value);
    r_.match.headers.push_back(std::move(h));
    return *this;
  }
  RouteBuilder& header_regex(std::string name, std::string pattern) {
    config::HeaderMatch h;
    h.name = std::move(name);
    h.regex = std::move(pattern);
    r_.match.headers.push_back(std::move(h));
    return *this;
  }
  RouteBuilder& header_present(std::string name, bool present) {
    config::HeaderMatch h;
    h.name = std::move(name);
    h.present = present;
    r_.match.headers.push_back(std::move(h));
    return *this;
  }
  RouteBuilder& target(std::string upstream, uint32_t weight) {
    r_.split.push_back({std::move(upstream), weight, {}});
    return *this;
  }

  operator config::RouteConfig() const { return r_; }  // NOLINT: implicit by design

 private:
  config::RouteConfig r_;
};

inline RouteBuilder route(std::string name) { return RouteBuilder(std::move(name)); }

inline config::Config config_of(std::initializer_list<config::RouteConfig> routes) {
  config::Config cfg;
  cfg.file = "basalt.yaml";
  cfg.routes.assign(routes.begin(), routes.end());
  return cfg;
}

}  // namespace basalt::router::testing
