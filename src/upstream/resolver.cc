// Endpoint resolution with getaddrinfo. See resolver.h.
#include "upstream/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <boost/asio/ip/address.hpp>

namespace basalt::upstream {
namespace {

namespace ip = boost::asio::ip;

std::string format_endpoint(const ip::tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

std::string configured_text(const config::EndpointConfig& e) {
  const auto& h = e.address.host;
  bool v6 = h.find(':') != std::string::npos;
  return (v6 ? "[" + h + "]" : h) + ":" + std::to_string(e.address.port);
}

// Appends every address `host` resolves to; returns false with a message on failure.
bool lookup(const config::EndpointConfig& e, std::vector<ResolvedEndpoint>& out,
            std::string* error) {
  boost::system::error_code ec;
  ip::address literal = ip::make_address(e.address.host, ec);
  if (!ec) {
    ip::tcp::endpoint ep(literal, e.address.port);
    out.push_back({ep, configured_text(e), format_endpoint(ep), e.weight});
    return true;
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(e.address.host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    if (!error->empty()) error->append("; ");
    error->append(e.address.host + ": " + gai_strerror(rc));
    return false;
  }
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    ip::tcp::endpoint ep;
    if (ai->ai_family == AF_INET) {
      auto* sa = reinterpret_cast<sockaddr_in*>(ai->ai_addr);
      ep = ip::tcp::endpoint(ip::address_v4(ntohl(sa->sin_addr.s_addr)), e.address.port);
    } else if (ai->ai_family == AF_INET6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(ai->ai_addr);
      ip::address_v6::bytes_type bytes;
      std::copy(std::begin(sa->sin6_addr.s6_addr), std::end(sa->sin6_addr.s6_addr), bytes.begin());
      ep = ip::tcp::endpoint(ip::address_v6(bytes), e.address.port);
    } else {
      continue;
    }
    ResolvedEndpoint r{ep, configured_text(e), format_endpoint(ep), e.weight};
    bool duplicate = false;
    for (const auto& seen : out) duplicate |= seen.address == r.address;
    if (!duplicate) out.push_back(std::move(r));
  }
  freeaddrinfo(res);
  return true;
}

}  // namespace

std::vector<ResolvedEndpoint> resolve(const config::UpstreamConfig& cfg, std::string* error) {
  std::vector<ResolvedEndpoint> out;
  error->clear();
  for (const auto& e : cfg.endpoints) lookup(e, out, error);
  return out;
}

bool needs_dns(const config::UpstreamConfig& cfg) {
  for (const auto& e : cfg.endpoints) {
    boost::system::error_code ec;
    boost::asio::ip::make_address(e.address.host, ec);
    if (ec) return true;
  }
  return false;
}

}  // namespace basalt::upstream
