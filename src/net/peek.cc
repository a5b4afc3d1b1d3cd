#include "net/peek.h"

#include <sys/socket.h>

#include <cerrno>

namespace basalt::net {

Pending peek(int fd) {
  char byte;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return Pending::data;
  if (n == 0) return Pending::closed;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Pending::nothing
                                                                   : Pending::closed;
}

}  // namespace basalt::net
