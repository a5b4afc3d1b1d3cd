// An upstream cluster as one worker sees it: its endpoints, the balancer that picks one per
// request, and the worker's keep-alive pool of connections to each endpoint.
//
// A Cluster belongs to one worker thread and is touched only there, so nothing in it is locked.
// The main thread resolves DNS names (upstream/resolver.h) and hands a new endpoint list to each
// worker with set_endpoints(), posted onto the worker's io_context.
//
//   upstream::Cluster users(io, cfg.upstreams[0], shard);
//   users.set_endpoints(upstream::resolve(cfg.upstreams[0], &err));
//   auto ep = users.pick(rng());
//   auto [conn, error] = co_await users.acquire(ep, Cluster::Reuse::pooled);  // pooled or new
//   ... exchange on conn->socket ...
//   users.release(std::move(conn), reusable);
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "http/buffer.h"
#include "observe/metrics.h"
#include "upstream/resolver.h"

namespace basalt::upstream {

struct EndpointState;

// One connection to an endpoint, owned by the request using it or by the endpoint's idle pool.
struct Connection {
  explicit Connection(boost::asio::io_context& io) : socket(io) {}
  boost::asio::ip::tcp::socket socket;
  http::ReadBuffer rbuf{16 * 1024};  // bytes read, not parsed yet; kept with the connection
  bool reused = false;  // came from the pool (may have been closed by the peer meanwhile)
  std::chrono::steady_clock::time_point idle_since;
  std::shared_ptr<EndpointState> endpoint;
};

struct EndpointState {
  ResolvedEndpoint ep;
  uint32_t active = 0;         // requests in flight on this worker
  int64_t current_weight = 0;  // smooth weighted round robin state
  bool removed = false;        // no longer in the cluster; connections are not pooled
  std::vector<std::unique_ptr<Connection>> idle;
  // Passive outlier detection: after kEjectAfterFailures connects in a row fail, the endpoint
  // is out of rotation on this worker until `ejected_until`; each ejection in a row doubles
  // the time, and a successful connect forgives everything.
  uint32_t failed_connects = 0;
  uint32_t ejections_in_row = 0;
  std::chrono::steady_clock::time_point ejected_until{};
};

// deadline: the caller's own deadline came before connect_timeout and ran out; the endpoint
// is not blamed for it.
enum class AcquireError { none, connect_failed, connect_timeout, deadline };

struct Acquired {
  std::unique_ptr<Connection> conn;
  AcquireError error = AcquireError::none;
};

// What admin shows for an endpoint (gathered on the worker's thread).
struct EndpointReport {
  std::string address;
  std::string resolved;
  uint32_t weight = 1;
  uint32_t active = 0;
  size_t idle = 0;
  bool ejected = false;
};

class Cluster {
 public:
  Cluster(boost::asio::io_context& io, const config::UpstreamConfig& cfg,
          observe::UpstreamShard& metrics);
  ~Cluster();

  const std::string& name() const { return cfg_.name; }

  // Replaces the endpoint list. Endpoints whose address stays keep their pool and counters.
  void set_endpoints(const std::vector<ResolvedEndpoint>& endpoints);

  // Picks an endpoint with the configured balancer, passing over ejected ones while any other
  // is left (when all are ejected it picks among them: better a try than certain failure);
  // nullptr when the cluster has none. `random` is a fresh number from the worker's generator.
  std::shared_ptr<EndpointState> pick(uint64_t random);

  static constexpr uint32_t kEjectAfterFailures = 3;
  static constexpr std::chrono::milliseconds kFirstEjection{1000};
  static constexpr std::chrono::milliseconds kLongestEjection{30'000};

  // Whether a request may take a pooled connection.
  //   pooled: yes, once the kernel says, without blocking (one recv with MSG_PEEK), that the
  //           upstream neither closed it nor sent bytes nobody asked for while it sat idle.
  //           Such bytes (a late second response, a body after a HEAD answer) would otherwise
  //           be read as the next request's response, perhaps another client's.
  //   fresh:  skip the pool (the retry after a stale connection).
  enum class Reuse { pooled, fresh };

  // An idle pooled connection to `ep` if a usable one is left, else a new one (bounded by the
  // upstream's connect_timeout). Pooled connections found closed are dropped on the way.
  // While a new connection is being made, *connecting (if given) points at it, so that the
  // caller can cancel the connect (a drain that ran out of time); it is null again after.
  // A connect gives up at `deadline` if that comes before connect_timeout (a route's timeout).
  boost::asio::awaitable<Acquired> acquire(std::shared_ptr<EndpointState> ep, Reuse reuse,
                                           Connection** connecting = nullptr,
                                           std::chrono::steady_clock::time_point deadline =
                                               std::chrono::steady_clock::time_point::max());

  // Returns a connection after a request: pooled when `reusable` and the pool has room,
  // closed otherwise.
  void release(std::unique_ptr<Connection> conn, bool reusable);

  // Closes pooled connections idle longer than the upstream's idle_timeout (or all of them).
  void sweep_idle(std::chrono::steady_clock::time_point now, bool all);

  std::vector<EndpointReport> report() const;

 private:
  std::shared_ptr<EndpointState> pick_round_robin();
  std::shared_ptr<EndpointState> pick_least_request(uint64_t random);
  std::unique_ptr<Connection> take_pooled(EndpointState& ep, Reuse reuse);
  void close(std::unique_ptr<Connection> conn);
  std::shared_ptr<EndpointState> pick_any(uint64_t random);
  bool ejected(const EndpointState& e, std::chrono::steady_clock::time_point now) const;
  void connect_failed(EndpointState& e);
  void connect_succeeded(EndpointState& e);

  boost::asio::io_context& io_;
  const config::UpstreamConfig& cfg_;
  observe::UpstreamShard& metrics_;
  std::vector<std::shared_ptr<EndpointState>> endpoints_;
  int64_t total_weight_ = 0;
  size_t ejected_ = 0;  // endpoints with an ejection set (maybe lapsed): 0 skips every check
};

}  // namespace basalt::upstream
