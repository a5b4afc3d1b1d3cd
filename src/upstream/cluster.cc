// Per-worker cluster: balancing and keep-alive pools. See cluster.h.
#include "upstream/cluster.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "net/peek.h"

namespace basalt::upstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

}  // namespace

Cluster::Cluster(asio::io_context& io, const config::UpstreamConfig& cfg,
                 observe::UpstreamShard& metrics)
    : io_(io), cfg_(cfg), metrics_(metrics) {}

Cluster::~Cluster() { sweep_idle({}, true); }

void Cluster::set_endpoints(const std::vector<ResolvedEndpoint>& endpoints) {
  // Keep the state (pool, counters) of endpoints that stay; drop the others' idle connections.
  std::vector<std::shared_ptr<EndpointState>> next;
  next.reserve(endpoints.size());
  for (const auto& r : endpoints) {
    std::shared_ptr<EndpointState> kept;
    for (auto& old : endpoints_)
      if (old && old->ep == r) kept = std::move(old);
    if (!kept) {
      kept = std::make_shared<EndpointState>();
      kept->ep = r;
    }
    next.push_back(std::move(kept));
  }
  for (auto& old : endpoints_) {
    if (!old) continue;
    old->removed = true;
    metrics_.active_connections.add(-static_cast<int64_t>(old->idle.size()));
    old->idle.clear();
  }
  endpoints_ = std::move(next);
  total_weight_ = 0;
  ejected_ = 0;
  for (auto& e : endpoints_) {
    total_weight_ += e->ep.weight;
    if (e->ejected_until != std::chrono::steady_clock::time_point{}) ++ejected_;
  }
}

std::shared_ptr<EndpointState> Cluster::pick(uint64_t random) {
  if (endpoints_.empty()) return nullptr;
  if (endpoints_.size() == 1) return endpoints_.front();
  if (ejected_ == 0) return pick_any(random);

  // A few picks find a live endpoint unless most are out; then the balancer's choice stands.
  const auto now = std::chrono::steady_clock::now();
  std::shared_ptr<EndpointState> e;
  for (int i = 0; i < 4; ++i) {
    e = pick_any(random);
    if (!ejected(*e, now)) return e;
    random = random * 6364136223846793005ULL + 1442695040888963407ULL;
  }
  for (auto& other : endpoints_)
    if (!ejected(*other, now)) return other;
  return e;
}

std::shared_ptr<EndpointState> Cluster::pick_any(uint64_t random) {
  return cfg_.balancer == config::Balancer::least_request ? pick_least_request(random)
                                                          : pick_round_robin();
}

bool Cluster::ejected(const EndpointState& e, std::chrono::steady_clock::time_point now) const {
  return e.ejected_until > now;
}

void Cluster::connect_failed(EndpointState& e) {
  metrics_.connect_failures.inc();
  if (++e.failed_connects < kEjectAfterFailures || endpoints_.size() < 2) return;
  if (e.ejected_until > std::chrono::steady_clock::now()) return;  // already out
  auto backoff = kFirstEjection * (1u << std::min<uint32_t>(e.ejections_in_row, 5));
  if (e.ejected_until == std::chrono::steady_clock::time_point{}) ++ejected_;
  e.ejected_until = std::chrono::steady_clock::now() + std::min(backoff, kLongestEjection);
  ++e.ejections_in_row;
  e.failed_connects = 0;
  metrics_.ejections.inc();
}

void Cluster::connect_succeeded(EndpointState& e) {
  e.failed_connects = 0;
  if (e.ejections_in_row == 0) return;
  e.ejections_in_row = 0;
  if (e.ejected_until != std::chrono::steady_clock::time_point{}) --ejected_;
  e.ejected_until = {};
}

// Smooth weighted round robin: every pick raises each endpoint by its weight and takes the
// highest, which then drops by the total. Spreads heavy endpoints out instead of in bursts.
std::shared_ptr<EndpointState> Cluster::pick_round_robin() {
  EndpointState* best = nullptr;
  size_t best_index = 0;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    auto& e = *endpoints_[i];
    e.current_weight += e.ep.weight;
    if (!best || e.current_weight > best->current_weight) best = &e, best_index = i;
  }
  best->current_weight -= total_weight_;
  return endpoints_[best_index];
}

// Power of two choices: two distinct endpoints at random, the one with fewer requests in flight
// per unit of weight wins (ties go to the first).
std::shared_ptr<EndpointState> Cluster::pick_least_request(uint64_t random) {
  size_t n = endpoints_.size();
  size_t a = random % n;
  size_t b = (a + 1 + (random >> 32) % (n - 1)) % n;
  const auto& ea = *endpoints_[a];
  const auto& eb = *endpoints_[b];
  uint64_t load_a = uint64_t{ea.active} * eb.ep.weight;
  uint64_t load_b = uint64_t{eb.active} * ea.ep.weight;
  return endpoints_[load_b < load_a ? b : a];
}

std::unique_ptr<Connection> Cluster::take_pooled(EndpointState& ep, Reuse reuse) {
  if (reuse == Reuse::fresh) return nullptr;
  // Newest idle connection first: the likeliest to still be open on the other side.
  while (!ep.idle.empty()) {
    auto conn = std::move(ep.idle.back());
    ep.idle.pop_back();
    // Unusable if the upstream closed it or sent bytes nobody asked for while it sat idle.
    if (net::peek(conn->socket.native_handle()) != net::Pending::nothing) {
      close(std::move(conn));
      continue;
    }
    conn->reused = true;
    return conn;
  }
  return nullptr;
}

asio::awaitable<Acquired> Cluster::acquire(std::shared_ptr<EndpointState> ep, Reuse reuse,
                                           Connection** connecting,
                                           std::chrono::steady_clock::time_point deadline) {
  using namespace asio::experimental::awaitable_operators;

  if (auto pooled = take_pooled(*ep, reuse)) co_return Acquired{std::move(pooled)};

  auto conn = std::make_unique<Connection>(io_);
  conn->endpoint = ep;
  const auto connect_limit = std::chrono::steady_clock::now() + cfg_.connect_timeout;
  const bool callers_deadline = deadline < connect_limit;
  asio::steady_timer timer(io_, callers_deadline ? deadline : connect_limit);
  if (connecting) *connecting = conn.get();
  auto result =
      co_await (conn->socket.async_connect(ep->ep.address, kAwait) || timer.async_wait(kAwait));
  if (connecting) *connecting = nullptr;
  if (result.index() == 1 && callers_deadline) co_return Acquired{nullptr, AcquireError::deadline};
  if (result.index() == 1) {
    connect_failed(*ep);
    co_return Acquired{nullptr, AcquireError::connect_timeout};
  }
  auto [ec] = std::get<0>(result);
  if (ec) {
    connect_failed(*ep);
    co_return Acquired{nullptr, AcquireError::connect_failed};
  }
  connect_succeeded(*ep);
  conn->socket.set_option(tcp::no_delay(true), ec);
  metrics_.active_connections.add(1);
  co_return Acquired{std::move(conn), AcquireError::none};
}

void Cluster::release(std::unique_ptr<Connection> conn, bool reusable) {
  auto& ep = *conn->endpoint;
  if (reusable && !ep.removed && conn->rbuf.empty() &&
      ep.idle.size() < cfg_.max_idle_per_endpoint) {
    conn->idle_since = std::chrono::steady_clock::now();
    conn->rbuf.shrink_if_grown();  // a large response grew it; an idle connection gives it back
    ep.idle.push_back(std::move(conn));
    return;
  }
  close(std::move(conn));
}

void Cluster::close(std::unique_ptr<Connection> conn) {
  boost::system::error_code ec;
  conn->socket.close(ec);
  metrics_.active_connections.add(-1);
}

void Cluster::sweep_idle(std::chrono::steady_clock::time_point now, bool all) {
  for (auto& ep : endpoints_) {
    auto& idle = ep->idle;
    size_t before = idle.size();
    std::erase_if(idle, [&](const std::unique_ptr<Connection>& c) {
      return all || now - c->idle_since >= cfg_.idle_timeout;
    });
    metrics_.active_connections.add(-static_cast<int64_t>(before - idle.size()));
  }
}

std::vector<EndpointReport> Cluster::report() const {
  std::vector<EndpointReport> out;
  for (const auto& e : endpoints_)
    out.push_back({e->ep.configured, e->ep.resolved, e->ep.weight, e->active, e->idle.size(),
                   ejected(*e, std::chrono::steady_clock::now())});
  return out;
}

}  // namespace basalt::upstream
