// Listening sockets. Every worker opens its own socket on the same address with SO_REUSEPORT,
// so the kernel spreads new connections across workers without a shared accept queue.
//
//   std::string err;
//   auto a = net::listen(worker.io(), {"127.0.0.1", 8080}, net::Sharing::group_first, &err);
//   if (!a) fail(err);
//   uint16_t port = a->local_endpoint().port();   // the real port when 0 was asked
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>

#include "config/model.h"

namespace basalt::net {

// How a listening socket shares its address.
//   exclusive:     one socket, no SO_REUSEPORT (the admin listener).
//   group_first:   the first of the workers' SO_REUSEPORT group; before joining it, checks
//                  that no other socket (another process, or an earlier listener of this one)
//                  holds the address, since SO_REUSEPORT would otherwise share it silently.
//   group_member:  a further worker's socket on the address the first one bound.
enum class Sharing { exclusive, group_first, group_member };

// A listening acceptor on `address` bound to `io`, with SO_REUSEADDR (and SO_REUSEPORT unless
// exclusive). nullopt and a message in *error when the address cannot be used.
std::optional<boost::asio::ip::tcp::acceptor> listen(boost::asio::io_context& io,
                                                     const config::HostPort& address,
                                                     Sharing sharing, std::string* error);

// "127.0.0.1:8080" / "[::1]:8080".
std::string format(const boost::asio::ip::tcp::endpoint& ep);

}  // namespace basalt::net
