// Listening sockets. See listener.h.
#include "net/listener.h"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/socket_base.hpp>

namespace basalt::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

}  // namespace

std::optional<tcp::acceptor> listen(asio::io_context& io, const config::HostPort& address,
                                    Sharing sharing, std::string* error) {
  boost::system::error_code ec;
  auto ip = address.host.empty() ? asio::ip::address(asio::ip::address_v4::any())
                                 : asio::ip::make_address(address.host, ec);
  if (ec) {
    *error = "listen address must be an IP literal: " + address.host;
    return std::nullopt;
  }
  tcp::endpoint ep(ip, address.port);
  auto step = [&](const char* what) {
    if (ec) *error = std::string(what) + " " + format(ep) + ": " + ec.message();
    return !ec;
  };

  // A socket without SO_REUSEPORT can only bind an address nobody listens on. Port 0 asks
  // for a fresh port, which nobody holds.
  if (sharing == Sharing::group_first && ep.port() != 0) {
    tcp::acceptor probe(io);
    probe.open(ep.protocol(), ec);
    if (!step("open")) return std::nullopt;
    probe.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!step("SO_REUSEADDR")) return std::nullopt;
    probe.bind(ep, ec);
    if (ec == asio::error::address_in_use) {
      *error = "bind " + format(ep) + ": address already in use";
      return std::nullopt;
    }
    if (!step("bind")) return std::nullopt;
  }

  tcp::acceptor acceptor(io);
  acceptor.open(ep.protocol(), ec);
  if (!step("open")) return std::nullopt;
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!step("SO_REUSEADDR")) return std::nullopt;
  if (sharing != Sharing::exclusive) {
    acceptor.set_option(ReusePort(true), ec);
    if (!step("SO_REUSEPORT")) return std::nullopt;
  }
  acceptor.bind(ep, ec);
  if (!step("bind")) return std::nullopt;
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!step("listen")) return std::nullopt;
  return acceptor;
}

std::string format(const tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

}  // namespace basalt::net
