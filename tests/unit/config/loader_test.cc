// Valid configs: every key lands in the model, defaults fill the rest, ${...} expands and is
// redacted in the JSON view, and the shipped examples load.
#include "config/loader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "test_support.h"

namespace basalt::config {
namespace {

using std::chrono::milliseconds;
using Pairs = std::vector<std::pair<std::string, std::string>>;
using Strings = std::vector<std::string>;

std::shared_ptr<const Config> load_ok(std::string_view yaml) {
  LoadResult r = load_string(yaml, "t.yaml");
  for (const auto& e : r.errors) ADD_FAILURE() << e.format();
  EXPECT_TRUE(r.ok());
  return r.config;
}

constexpr std::string_view kEveryKey = R"(workers: 4
listeners:
  - name: public
    address: "[::1]:8443"
  - { name: internal, address: 10.0.0.1:0 }
admin: { enabled: false, address: 0.0.0.0:19901 }
access_log: { path: /var/log/basalt/access.log }
log: { level: warn, path: stdout }
limits:
  max_header_bytes: 16KiB
  max_header_count: 50
  max_body_bytes: 2MiB
  header_timeout: 5s
  read_timeout: 1.5s
  idle_timeout: 2m
  drain_timeout: 0
  max_connections: 500
upstreams:
  - name: users
    endpoints:
      - { address: 127.0.0.1:9001, weight: 3 }
      - { address: users.internal:9002 }
    balancer: least_request
    connect_timeout: 250ms
    dns_refresh: 1h
    pool: { max_idle: 8, idle_timeout: 30s }
  - name: users-v2
    endpoints: [ { address: 127.0.0.1:9003 } ]
routes:
  - name: api
    match:
      hosts: [API.Example.com., "*.Example.com"]
      path_prefix: /users/
      methods: [get, POST]
      headers:
        - { name: X-Canary, exact: "1" }
        - { name: x-ver, regex: "v[0-9]+" }
        - { name: x-debug, present: false }
    split:
      - { upstream: users, weight: 90 }
      - { upstream: users-v2, weight: 10 }
    timeout: 3s
    rewrite: { path_prefix: /v2/ }
    request_headers:
      set: { X-A: "1", x-b: two }
      add: { x-c: 3 }
      remove: [X-Internal]
    response_headers: { set: { server: basalt }, remove: [x-powered-by] }
    max_body_bytes: 1MiB
  - name: exact
    match: { path: /exact, methods: [DELETE] }
    upstream: users
  - name: rx
    match: { path_regex: "^/u/[0-9]+$" }
    direct_response: { status: 418, body: "short and stout", content_type: text/teapot }
  - name: moved
    redirect: { location: "https://example.com/new", status: 308, keep_query: false }
)";

TEST(Loader, EveryKeyLandsInTheModel) {
  auto cfg = load_ok(kEveryKey);
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->file, "t.yaml");
  EXPECT_EQ(cfg->workers, 4u);

  ASSERT_EQ(cfg->listeners.size(), 2u);
  EXPECT_EQ(cfg->listeners[0].name, "public");
  EXPECT_EQ(cfg->listeners[0].address.host, "::1");
  EXPECT_EQ(cfg->listeners[0].address.port, 8443);
  EXPECT_EQ(cfg->listeners[0].pos.line, 3);
  EXPECT_EQ(cfg->listeners[0].pos.column, 5);
  EXPECT_EQ(cfg->listeners[1].address.port, 0);

  EXPECT_FALSE(cfg->admin.enabled);
  EXPECT_EQ(cfg->admin.address.host, "0.0.0.0");
  EXPECT_EQ(cfg->admin.address.port, 19901);
  EXPECT_EQ(cfg->access_log.path, "/var/log/basalt/access.log");
  EXPECT_EQ(cfg->log.level, LogLevel::warn);
  EXPECT_EQ(cfg->log.path, "stdout");

  const LimitsConfig& l = cfg->limits;
  EXPECT_EQ(l.max_header_bytes, 16u * 1024);
  EXPECT_EQ(l.max_header_count, 50u);
  EXPECT_EQ(l.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(l.header_timeout, milliseconds(5'000));
  EXPECT_EQ(l.read_timeout, milliseconds(1'500));
  EXPECT_EQ(l.idle_timeout, milliseconds(120'000));
  EXPECT_EQ(l.drain_timeout, milliseconds(0));
  EXPECT_EQ(l.max_connections, 500u);
}

TEST(Loader, UpstreamKeysLandInTheModel) {
  auto cfg = load_ok(kEveryKey);
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->upstreams.size(), 2u);
  const UpstreamConfig& u = cfg->upstreams[0];
  EXPECT_EQ(u.name, "users");
  EXPECT_EQ(u.pos.line, 19);
  ASSERT_EQ(u.endpoints.size(), 2u);
  EXPECT_EQ(u.endpoints[0].address.host, "127.0.0.1");
  EXPECT_EQ(u.endpoints[0].weight, 3u);
  EXPECT_EQ(u.endpoints[1].address.host, "users.internal");
  EXPECT_EQ(u.endpoints[1].weight, 1u);
  EXPECT_EQ(u.endpoints[1].pos.line, 22);
  EXPECT_EQ(u.balancer, Balancer::least_request);
  EXPECT_EQ(u.connect_timeout, milliseconds(250));
  EXPECT_EQ(u.dns_refresh, milliseconds(3'600'000));
  EXPECT_EQ(u.max_idle_per_endpoint, 8u);
  EXPECT_EQ(u.idle_timeout, milliseconds(30'000));
}

TEST(Loader, RouteKeysLandInTheModelNormalized) {
  auto cfg = load_ok(kEveryKey);
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->routes.size(), 4u);
  const RouteConfig& r = cfg->routes[0];
  EXPECT_EQ(r.name, "api");
  EXPECT_EQ(r.match.hosts, (Strings{"api.example.com", "*.example.com"}));
  EXPECT_EQ(r.match.path_prefix, "/users");
  EXPECT_EQ(r.match.methods, (Strings{"GET", "POST"}));
  ASSERT_EQ(r.match.headers.size(), 3u);
  EXPECT_EQ(r.match.headers[0].name, "x-canary");
  EXPECT_EQ(r.match.headers[0].exact, "1");
  EXPECT_EQ(r.match.headers[1].regex, "v[0-9]+");
  EXPECT_EQ(r.match.headers[2].present, false);
  ASSERT_EQ(r.split.size(), 2u);
  EXPECT_EQ(r.split[0].upstream, "users");
  EXPECT_EQ(r.split[0].weight, 90u);
  EXPECT_EQ(r.split[1].upstream, "users-v2");
  EXPECT_EQ(r.split[1].weight, 10u);
  EXPECT_EQ(r.timeout, milliseconds(3'000));
  EXPECT_EQ(r.rewrite_prefix, "/v2");
  EXPECT_EQ(r.request_headers.set, (Pairs{{"x-a", "1"}, {"x-b", "two"}}));
  EXPECT_EQ(r.request_headers.add, (Pairs{{"x-c", "3"}}));
  EXPECT_EQ(r.request_headers.remove, (Strings{"x-internal"}));
  EXPECT_EQ(r.response_headers.set, (Pairs{{"server", "basalt"}}));
  EXPECT_EQ(r.response_headers.remove, (Strings{"x-powered-by"}));
  EXPECT_EQ(r.max_body_bytes, 1u << 20);
  EXPECT_FALSE(r.direct_response);
  EXPECT_FALSE(r.redirect);
}

TEST(Loader, OtherActionsLandInTheModel) {
  auto cfg = load_ok(kEveryKey);
  ASSERT_TRUE(cfg);
  const RouteConfig& exact = cfg->routes[1];
  EXPECT_EQ(exact.match.path, "/exact");
  ASSERT_EQ(exact.split.size(), 1u);
  EXPECT_EQ(exact.split[0].upstream, "users");
  EXPECT_EQ(exact.split[0].weight, 1u);

  const RouteConfig& rx = cfg->routes[2];
  EXPECT_EQ(rx.match.path_regex, "^/u/[0-9]+$");
  ASSERT_TRUE(rx.direct_response);
  EXPECT_EQ(rx.direct_response->status, 418);
  EXPECT_EQ(rx.direct_response->body, "short and stout");
  EXPECT_EQ(rx.direct_response->content_type, "text/teapot");
  EXPECT_TRUE(rx.split.empty());

  const RouteConfig& moved = cfg->routes[3];
  ASSERT_TRUE(moved.redirect);
  EXPECT_EQ(moved.redirect->location, "https://example.com/new");
  EXPECT_EQ(moved.redirect->status, 308);
  EXPECT_FALSE(moved.redirect->keep_query);
  EXPECT_TRUE(moved.match.hosts.empty());
  EXPECT_FALSE(moved.match.path || moved.match.path_prefix || moved.match.path_regex);
}

TEST(Loader, DefaultsFillEverythingNotWritten) {
  auto cfg = load_ok(
      "listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
      "upstreams: [ { name: u, endpoints: [ { address: h:1 } ] } ]\n"
      "routes:\n"
      "  - { name: r, upstream: u }\n"
      "  - { name: d, direct_response: {} }\n"
      "  - { name: m, redirect: { location: /x } }\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->workers, 0u);
  EXPECT_TRUE(cfg->admin.enabled);
  EXPECT_EQ(cfg->admin.address.host, "127.0.0.1");
  EXPECT_EQ(cfg->admin.address.port, 9901);
  EXPECT_EQ(cfg->access_log.path, "stdout");
  EXPECT_EQ(cfg->log.level, LogLevel::info);
  EXPECT_EQ(cfg->log.path, "stderr");
  EXPECT_EQ(cfg->limits.max_header_bytes, 32u * 1024);
  EXPECT_EQ(cfg->limits.max_header_count, 100u);
  EXPECT_EQ(cfg->limits.max_body_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(cfg->limits.header_timeout, milliseconds(10'000));
  EXPECT_EQ(cfg->limits.read_timeout, milliseconds(30'000));
  EXPECT_EQ(cfg->limits.idle_timeout, milliseconds(60'000));
  EXPECT_EQ(cfg->limits.drain_timeout, milliseconds(15'000));
  EXPECT_EQ(cfg->limits.max_connections, 10'000u);

  const UpstreamConfig& u = cfg->upstreams[0];
  EXPECT_EQ(u.balancer, Balancer::round_robin);
  EXPECT_EQ(u.connect_timeout, milliseconds(2'000));
  EXPECT_EQ(u.dns_refresh, milliseconds(30'000));
  EXPECT_EQ(u.max_idle_per_endpoint, 64u);
  EXPECT_EQ(u.idle_timeout, milliseconds(60'000));

  const RouteConfig& r = cfg->routes[0];
  EXPECT_EQ(r.timeout, milliseconds(15'000));
  EXPECT_FALSE(r.max_body_bytes);
  EXPECT_FALSE(r.rewrite_prefix);
  EXPECT_TRUE(r.match.methods.empty());
  EXPECT_EQ(cfg->routes[1].direct_response->status, 200);
  EXPECT_EQ(cfg->routes[1].direct_response->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(cfg->routes[2].redirect->status, 302);
  EXPECT_TRUE(cfg->routes[2].redirect->keep_query);
}

TEST(Loader, PathPrefixKeepsALoneSlash) {
  auto cfg = load_ok(
      "listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
      "routes: [ { name: r, match: { path_prefix: / }, direct_response: {} } ]\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->routes[0].match.path_prefix, "/");
}

TEST(Loader, EnvironmentIsSubstitutedBeforeConversion) {
  setenv("BASALT_TEST_ADDR", "127.0.0.1:8181", 1);
  setenv("BASALT_TEST_WORKERS", "3", 1);
  setenv("BASALT_TEST_EMPTY", "", 1);
  unsetenv("BASALT_TEST_UNSET");
  auto cfg = load_ok(
      "workers: ${BASALT_TEST_WORKERS}\n"
      "listeners: [ { name: l, address: \"${BASALT_TEST_ADDR}\" } ]\n"
      "limits: { idle_timeout: \"${BASALT_TEST_UNSET:-5}s\" }\n"
      "access_log: { path: \"${BASALT_TEST_EMPTY:-off}\" }\n"
      "routes:\n"
      "  - name: r\n"
      "    direct_response: { body: \"price: $${NOT_A_VAR}\" }\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->workers, 3u);
  EXPECT_EQ(cfg->listeners[0].address.port, 8181);
  EXPECT_EQ(cfg->limits.idle_timeout, milliseconds(5'000));
  EXPECT_EQ(cfg->access_log.path, "off");
  EXPECT_EQ(cfg->routes[0].direct_response->body, "price: ${NOT_A_VAR}");
}

TEST(Loader, RedactedJsonHidesEverySubstitutedValue) {
  setenv("BASALT_TEST_SECRET", "hunter2", 1);
  auto cfg = load_ok(
      "listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
      "routes:\n"
      "  - name: r\n"
      "    direct_response: { status: 200, body: \"${BASALT_TEST_SECRET}\" }\n"
      "    request_headers: { set: { authorization: \"Bearer ${BASALT_TEST_SECRET}\" } }\n"
      "    timeout: 1.5s\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->routes[0].direct_response->body, "hunter2");
  EXPECT_EQ(cfg->redacted_json.find("hunter2"), std::string::npos);

  auto json = nlohmann::json::parse(cfg->redacted_json);
  const auto& route = json["routes"][0];
  EXPECT_EQ(route["direct_response"]["body"], "<redacted>");
  EXPECT_EQ(route["direct_response"]["status"], 200);
  EXPECT_EQ(route["request_headers"]["set"]["authorization"], "<redacted>");
  EXPECT_EQ(route["timeout"], "1.5s");
  EXPECT_EQ(json["listeners"][0]["address"], "127.0.0.1:0");
  // dump(2): indented, one key per line.
  EXPECT_NE(cfg->redacted_json.find("\n  \"listeners\": ["), std::string::npos);
}

TEST(Loader, AdminTokenIsRedactedEvenWhenWrittenLiterally) {
  auto cfg = load_ok(
      "listeners: [ { name: l, address: 127.0.0.1:0 } ]\n"
      "admin: { address: 0.0.0.0:9901, token: literal-admin-token-1234 }\n");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->admin.token, "literal-admin-token-1234");
  EXPECT_EQ(cfg->redacted_json.find("literal-admin-token"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(cfg->redacted_json)["admin"]["token"], "<redacted>");
}

TEST(Loader, NoConfigIsPublishedWhenThereAreErrors) {
  LoadResult r = load_string("listeners: [ { name: l, address: nope } ]\n", "t.yaml");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.config, nullptr);
}

TEST(Loader, QuickstartExampleLoads) {
  LoadResult r = load_file((test::source_dir() / "examples/quickstart.yaml").string());
  for (const auto& e : r.errors) ADD_FAILURE() << e.format();
  ASSERT_TRUE(r.ok());
  const Config& cfg = *r.config;
  ASSERT_EQ(cfg.listeners.size(), 1u);
  EXPECT_EQ(cfg.listeners[0].address.port, 8080);
  EXPECT_EQ(cfg.admin.address.port, 9901);
  ASSERT_EQ(cfg.upstreams.size(), 1u);
  EXPECT_EQ(cfg.upstreams[0].endpoints.size(), 2u);
  EXPECT_EQ(cfg.upstreams[0].balancer, Balancer::least_request);
  ASSERT_EQ(cfg.routes.size(), 2u);
  EXPECT_EQ(cfg.routes[0].match.path_prefix, "/users");
  ASSERT_EQ(cfg.routes[0].split.size(), 1u);
  EXPECT_EQ(cfg.routes[0].split[0].upstream, "users");
  EXPECT_EQ(cfg.routes[1].match.path, "/ping");
  ASSERT_TRUE(cfg.routes[1].direct_response);
  EXPECT_EQ(cfg.routes[1].direct_response->body, "pong");
}

TEST(Loader, FullExampleLoads) {
  unsetenv("USERS_V1_HOST");
  LoadResult r = load_file((test::source_dir() / "examples/full.yaml").string());
  for (const auto& e : r.errors) ADD_FAILURE() << e.format();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->upstreams[0].endpoints[1].address.host, "127.0.0.1");
}

}  // namespace
}  // namespace basalt::config
