// Listening sockets. Every worker opens its own socket on the same address with SO_REUSEPORT,
// so the kernel spreads new connections across workers without a shared accept queue.
//
//   std::string err;
//   auto a = net::listen(worker.io(), {"127.0.0.1", 8080}, &err);
//   if (!a) fail(err);
//   uint16_t port = a->local_endpoint().port();   // the real port when 0 was asked
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>

#include "config/model.h"

namespace basalt::net {

// A listening acceptor on `address` bound to `io`, with SO_REUSEADDR and SO_REUSEPORT set.
// nullopt and a message in *error when the address cannot be resolved or bound.
std::optional<boost::asio::ip::tcp::acceptor> listen(boost::asio::io_context& io,
                                                     const config::HostPort& address,
                                                     std::string* error);

// "127.0.0.1:8080" / "[::1]:8080".
std::string format(const boost::asio::ip::tcp::endpoint& ep);

}  // namespace basalt::net
