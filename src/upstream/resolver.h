// Turns an upstream's configured endpoints (IP:port or DNS name:port) into socket addresses.
//
// Runs on the main thread (getaddrinfo blocks): once at load, then every dns_refresh for
// upstreams that name hosts. A name that resolves to several addresses becomes one endpoint per
// address, each with the configured weight.
//
//   std::string err;
//   auto eps = upstream::resolve(cfg.upstreams[0], &err);
//   if (!err.empty()) log a warning; eps holds what did resolve.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <vector>

#include "config/model.h"

namespace basalt::upstream {

struct ResolvedEndpoint {
  boost::asio::ip::tcp::endpoint address;
  std::string configured;  // as written in the config, e.g. "users.internal:8080"
  std::string resolved;    // "10.0.0.7:8080" or "[::1]:8080"
  uint32_t weight = 1;

  bool operator==(const ResolvedEndpoint& o) const {
    return address == o.address && weight == o.weight && configured == o.configured;
  }
};

// Every endpoint of `cfg`, resolved. Names that fail to resolve are left out and described in
// `*error` (empty when all resolved).
std::vector<ResolvedEndpoint> resolve(const config::UpstreamConfig& cfg, std::string* error);

// True when some endpoint is a DNS name (so the upstream needs periodic re-resolution).
bool needs_dns(const config::UpstreamConfig& cfg);

}  // namespace basalt::upstream
