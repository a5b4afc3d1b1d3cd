// A worker: one thread, one io_context, its own acceptors on the shared listener ports
// (SO_REUSEPORT), its own upstream clusters and pools, its own metric shard and access log
// buffer. Nothing here is shared with another worker, so the request path takes no lock.
//
// The main thread (gateway/server.cc) creates workers, starts them, posts endpoint updates and
// asks them to drain; each of those crosses threads by asio::post onto the worker's io_context.
//
//   Worker w(0, runtime, metrics, access_log.get());
//   w.add_listener("public", std::move(acceptor));
//   w.start();             // spawns the thread
//   w.begin_drain();       // stop accepting, close idle connections, finish the rest
//   w.stop(); w.join();
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/connection.h"
#include "gateway/runtime.h"
#include "http/request_id.h"
#include "observe/access_log.h"
#include "observe/metrics.h"
#include "upstream/cluster.h"

namespace basalt::gateway {

class Worker {
 public:
  Worker(size_t index, std::shared_ptr<const Runtime> runtime, observe::Metrics& metrics,
         observe::AccessLog* access_log);
  ~Worker();

  void add_listener(std::string name, boost::asio::ip::tcp::acceptor acceptor);
  void start();
  void join();

  // From any thread.
  void begin_drain();
  // The drain ran out of time: every connection ends its request now (Connection::abort).
  void abort_connections();
  void stop();
  void post_endpoints(size_t upstream, std::vector<upstream::ResolvedEndpoint> endpoints);
  // Blocks the calling (non-worker) thread until the worker has filled the report.
  std::vector<std::vector<upstream::EndpointReport>> report_upstreams();
  size_t open_connections() const { return open_.load(std::memory_order_relaxed); }

  // For connections, on the worker thread.
  boost::asio::io_context& io() { return io_; }
  size_t index() const { return index_; }
  const Runtime& runtime() const { return *runtime_; }
  observe::WorkerShard& metrics() { return shard_; }
  observe::AccessLog* access_log() { return access_log_; }
  upstream::Cluster& cluster(size_t i) { return *clusters_[i]; }
  http::Random& random() { return random_; }
  bool draining() const { return draining_; }
  std::list<std::unique_ptr<Connection>>::iterator track(std::unique_ptr<Connection> c);
  void connection_closed(std::list<std::unique_ptr<Connection>>::iterator it);

 private:
  struct Listener {
    std::string name;
    boost::asio::ip::tcp::acceptor acceptor;
  };

  boost::asio::awaitable<void> accept_loop(Listener& l);
  boost::asio::awaitable<void> housekeeping();

  size_t index_;
  boost::asio::io_context io_{1};
  std::shared_ptr<const Runtime> runtime_;
  observe::WorkerShard& shard_;
  observe::AccessLog* access_log_;
  std::vector<std::unique_ptr<upstream::Cluster>> clusters_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::list<std::unique_ptr<Connection>> connections_;
  std::atomic<size_t> open_{0};
  boost::asio::steady_timer tick_{io_};
  http::Random random_;
  bool draining_ = false;
  std::thread thread_;
};

}  // namespace basalt::gateway
