// The typed configuration model: what a basalt YAML file means once loaded.
//
// The loader (config/loader.h) fills these structs from YAML, records where every
// object came from (SourcePos) so later checks can name file:line:column, and fills
// every default. Nothing here knows about YAML, sockets or threads.
//
//   config::LoadResult r = config::load_file("examples/quickstart.yaml");
//   if (!r.ok()) for (auto& e : r.errors) std::cerr << e.format() << '\n';
//   const config::Config& cfg = *r.config;
//   for (const auto& route : cfg.routes) use(route.name, route.timeout);
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace basalt::config {

using Duration = std::chrono::milliseconds;

// Where a value came from; line and column are 1-based. An empty file means "built in".
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
};

// host:port as written, split. host may be an IPv4/IPv6 literal or a DNS name.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};

struct ListenerConfig {
  std::string name;
  HostPort address;
  SourcePos pos;
  SourcePos address_pos;
};

// Off loopback the admin listener requires `token`: every endpoint but /live and /ready then
// needs "Authorization: Bearer <token>". Empty means no token.
struct AdminConfig {
  bool enabled = true;
  HostPort address{"127.0.0.1", 9901};
  std::string token;
  SourcePos pos;
  SourcePos address_pos;
};

// path: "stdout", "stderr", "off", or a file path (opened for append).
struct AccessLogConfig {
  std::string path = "stdout";
  SourcePos pos;
};

enum class LogLevel { debug, info, warn, error };

struct LogConfig {
  LogLevel level = LogLevel::info;
  std::string path = "stderr";  // "stdout", "stderr" or a file path
};

// Server-wide limits and timeouts for downstream connections.
struct LimitsConfig {
  uint32_t max_header_bytes = 32 * 1024;  // request line + all header fields
  uint32_t max_header_count = 100;
  uint64_t max_body_bytes = 10 * 1024 * 1024;  // default for routes that set none
  Duration header_timeout{10'000};             // whole request head must arrive within
  Duration read_timeout{30'000};               // each body read must make progress within
  Duration idle_timeout{60'000};               // keep-alive idle between requests
  Duration drain_timeout{15'000};              // bound on finishing in-flight work at shutdown
  uint32_t max_connections = 10'000;           // per worker
};

enum class Balancer { round_robin, least_request };

struct EndpointConfig {
  HostPort address;
  uint32_t weight = 1;
  SourcePos pos;
};

struct UpstreamConfig {
  std::string name;
  std::vector<EndpointConfig> endpoints;
  Balancer balancer = Balancer::round_robin;
  Duration connect_timeout{2'000};
  Duration dns_refresh{30'000};         // re-resolve interval for DNS-named endpoints
  uint32_t max_idle_per_endpoint = 64;  // per worker
  Duration idle_timeout{60'000};        // idle pooled connections are closed after this
  SourcePos pos;
};

// A predicate on one request header. Exactly one of exact/regex/present is set.
struct HeaderMatch {
  std::string name;  // lower-cased by the loader
  std::optional<std::string> exact;
  std::optional<std::string> regex;  // RE2 syntax, full match against the value
  std::optional<bool> present;       // true: must be present; false: must be absent
  SourcePos pos;
};

struct RouteMatch {
  std::vector<std::string> hosts;          // lower-case; "api.example.com" or "*.example.com"
  std::optional<std::string> path;         // exact
  std::optional<std::string> path_prefix;  // segment-aware; trailing '/' dropped (except "/")
  std::optional<std::string> path_regex;   // RE2, full match against the normalized path
  std::vector<std::string> methods;        // upper-case; empty means any
  std::vector<HeaderMatch> headers;
  SourcePos pos;
};

struct HeaderOps {
  std::vector<std::pair<std::string, std::string>> set;  // replace (or add if absent)
  std::vector<std::pair<std::string, std::string>> add;  // append
  std::vector<std::string> remove;                       // lower-case names
};

struct WeightedTarget {
  std::string upstream;
  uint32_t weight = 1;
  SourcePos pos;
};

struct DirectResponse {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

struct Redirect {
  int status = 302;      // 301, 302, 303, 307 or 308
  std::string location;  // absolute URL or absolute path
  bool keep_query = true;
};

struct RouteConfig {
  std::string name;
  RouteMatch match;
  // Exactly one action: upstream (split holds it with weight 1), split, direct, redirect.
  std::vector<WeightedTarget> split;
  std::optional<DirectResponse> direct_response;
  std::optional<Redirect> redirect;
  Duration timeout{15'000};                   // whole upstream exchange, headers to last byte
  std::optional<std::string> rewrite_prefix;  // replaces the matched path_prefix
  HeaderOps request_headers;
  HeaderOps response_headers;
  std::optional<uint64_t> max_body_bytes;  // falls back to limits.max_body_bytes
  SourcePos pos;
};

struct Config {
  std::string file;      // the file it was loaded from
  uint32_t workers = 0;  // 0 = one per core ("auto")
  std::vector<ListenerConfig> listeners;
  AdminConfig admin;
  AccessLogConfig access_log;
  LogConfig log;
  LimitsConfig limits;
  std::vector<UpstreamConfig> upstreams;
  std::vector<RouteConfig> routes;
  // The active config as JSON text with every value that came from ${...} redacted,
  // served by the admin /config endpoint.
  std::string redacted_json;
};

// One problem found in a config file.
struct Diagnostic {
  SourcePos pos;
  std::string message;
  // "FILE:LINE:COLUMN: message" (just "FILE: message" when the position is unknown).
  std::string format() const;
};

}  // namespace basalt::config
