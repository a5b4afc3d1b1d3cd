// One downstream HTTP/1.1 connection: a coroutine that reads requests one after another and
// carries each through the gateway (parse, route, local reply or proxy, log and count).
//
// The life of a request, in the order run() performs it:
//   read head (idle then header deadline) -> strict parse -> request id, normalized path, host
//   -> route -> direct reply | redirect | proxy:
//        pick target and endpoint -> pooled/new upstream connection -> request head (+ body,
//        streamed with backpressure) -> response head -> response head to client -> body
//        streamed -> connection back to the pool
//   -> metrics + access log line -> next request or close.
// Every read and write runs under a deadline kept by one watchdog timer per connection.
//
// The worker owns its connections (a list, also used for draining); a connection asks the
// worker to destroy it when both of its coroutines have ended.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <list>

namespace basalt::gateway {

class Worker;

class Connection {
 public:
  // Takes the accepted socket and starts serving on the worker's io_context.
  static void start(Worker& worker, boost::asio::ip::tcp::socket socket);

  // Drain: closes the connection now if it is between requests, or after the current response.
  virtual void drain() = 0;

  // The drain ran out of time: ends the request under way now. Its exchange fails as
  // `draining` (a 503 if nothing of the response was sent yet), it is logged and counted, and
  // the connection closes.
  virtual void abort() = 0;

  // Called by the worker every housekeeping tick: when the request is sent and its response
  // awaited, and the client has closed its connection meanwhile, ends the exchange (logged as
  // 499, client_closed) so the upstream connection is freed instead of working for nobody.
  virtual void check_client() = 0;

  virtual ~Connection() = default;
};

}  // namespace basalt::gateway
