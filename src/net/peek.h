// What a connected socket holds for reading, asked of the kernel without reading it and
// without blocking: one recv(2) with MSG_PEEK | MSG_DONTWAIT. Used on idle sockets, where no
// read is pending, to learn whether the peer has closed or sent something unasked.
//
//   if (net::peek(conn.socket.native_handle()) != net::Pending::nothing) drop(conn);
#pragma once

namespace basalt::net {

// nothing: open, no bytes waiting. data: bytes are waiting. closed: the peer closed or reset
// the connection (or the socket failed), and no byte is left to read.
enum class Pending { nothing, data, closed };

Pending peek(int fd);

}  // namespace basalt::net
