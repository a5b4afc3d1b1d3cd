// Cluster: the balancers' choices, endpoint updates that keep state, and the keep-alive pool
// (reuse, the closed-while-idle check, idle sweeping) over real loopback sockets.
#include "upstream/cluster.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <map>
#include <string>
#include <vector>

namespace basalt::upstream {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

ResolvedEndpoint endpoint(uint16_t port, uint32_t weight = 1) {
  ResolvedEndpoint e;
  e.address = tcp::endpoint(asio::ip::make_address("127.0.0.1"), port);
  e.configured = e.resolved = "127.0.0.1:" + std::to_string(port);
  e.weight = weight;
  return e;
}

config::UpstreamConfig upstream_config(config::Balancer balancer) {
  config::UpstreamConfig cfg;
  cfg.name = "u";
  cfg.balancer = balancer;
  return cfg;
}

// Picks n times and counts picks per port.
std::map<uint16_t, int> spread(Cluster& c, int n, uint64_t seed = 1) {
  std::map<uint16_t, int> count;
  for (int i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;  // any varied sequence
    count[c.pick(seed)->ep.address.port()]++;
  }
  return count;
}

struct ClusterTest : testing::Test {
  asio::io_context io;
  observe::UpstreamShard metrics;
};

TEST_F(ClusterTest, NoEndpointsPicksNothing) {
  auto cfg = upstream_config(config::Balancer::round_robin);
  Cluster c(io, cfg, metrics);
  EXPECT_EQ(c.pick(7), nullptr);
}

TEST_F(ClusterTest, WeightedRoundRobinIsExactAndInterleaved) {
  auto cfg = upstream_config(config::Balancer::round_robin);
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(1, 3), endpoint(2, 1)});
  std::string order;
  for (int i = 0; i < 8; ++i) order += c.pick(0)->ep.address.port() == 1 ? 'a' : 'b';
  // Smooth: the heavy endpoint's picks are spread out, not taken in one burst.
  EXPECT_EQ(order, "aabaaaba");
}

TEST_F(ClusterTest, RoundRobinWithEqualWeightsAlternates) {
  auto cfg = upstream_config(config::Balancer::round_robin);
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(1), endpoint(2), endpoint(3)});
  auto count = spread(c, 300);
  EXPECT_EQ(count[1], 100);
  EXPECT_EQ(count[2], 100);
  EXPECT_EQ(count[3], 100);
}

TEST_F(ClusterTest, LeastRequestAvoidsTheBusyEndpoint) {
  auto cfg = upstream_config(config::Balancer::least_request);
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(1), endpoint(2)});
  // With two endpoints both are always compared: the idle one always wins.
  auto busy = c.pick(0);
  busy->active = 5;
  for (uint64_t r = 0; r < 50; ++r) EXPECT_NE(c.pick(r * 0x9e3779b97f4a7c15ULL), busy);
}

TEST_F(ClusterTest, LeastRequestWeighsLoadByWeight) {
  auto cfg = upstream_config(config::Balancer::least_request);
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(1, 4), endpoint(2, 1)});
  std::shared_ptr<EndpointState> heavy, light;
  for (uint64_t r = 0; r < 64 && !(heavy && light); ++r) {
    auto e = c.pick(r * 0x9e3779b97f4a7c15ULL);
    (e->ep.address.port() == 1 ? heavy : light) = e;
  }
  ASSERT_TRUE(heavy && light);
  // 3 in flight on weight 4 is a lighter load than 1 on weight 1.
  heavy->active = 3;
  light->active = 1;
  for (uint64_t r = 0; r < 20; ++r) EXPECT_EQ(c.pick(r * 0x9e3779b97f4a7c15ULL), heavy);
}

TEST_F(ClusterTest, LeastRequestSpreadsEvenlyWhenIdle) {
  auto cfg = upstream_config(config::Balancer::least_request);
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(1), endpoint(2), endpoint(3), endpoint(4)});
  auto count = spread(c, 4000);
  for (uint16_t p = 1; p <= 4; ++p) {
    EXPECT_GT(count[p], 800) << p;
    EXPECT_LT(count[p], 1200) << p;
  }
}

TEST_F(ClusterTest, SetEndpointsKeepsTheStateOfEndpointsThatStay) {
  auto cfg = upstream_config(config::Balancer::round_robin);
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(1), endpoint(2)});
  std::shared_ptr<EndpointState> staying, leaving;
  for (int i = 0; i < 2; ++i) {
    auto e = c.pick(0);
    (e->ep.address.port() == 1 ? staying : leaving) = e;
  }
  ASSERT_TRUE(staying && leaving);
  staying->active = 2;

  c.set_endpoints({endpoint(1), endpoint(3)});
  auto report = c.report();
  ASSERT_EQ(report.size(), 2u);
  EXPECT_EQ(report[0].address, "127.0.0.1:1");
  EXPECT_EQ(report[0].active, 2u);
  EXPECT_EQ(report[1].address, "127.0.0.1:3");
  EXPECT_EQ(report[1].active, 0u);
  EXPECT_FALSE(staying->removed);
  EXPECT_TRUE(leaving->removed);  // its connections in flight are closed, not pooled
}

// ---- the pool, over real sockets ---------------------------------------------------------------

struct PoolTest : ClusterTest {
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  config::UpstreamConfig cfg = upstream_config(config::Balancer::round_robin);
  std::vector<tcp::socket> accepted;

  Acquired acquire(Cluster& c, const std::shared_ptr<EndpointState>& ep, Cluster::Reuse reuse) {
    auto fut = asio::co_spawn(io, c.acquire(ep, reuse), asio::use_future);
    io.restart();
    while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.run_one();
    return fut.get();
  }

  // One connection to the acceptor made and given back to the pool; its endpoint.
  std::shared_ptr<EndpointState> one_pooled(Cluster& c) {
    c.set_endpoints({endpoint(acceptor.local_endpoint().port())});
    auto ep = c.pick(0);
    auto first = acquire(c, ep, Cluster::Reuse::pooled);
    EXPECT_TRUE(first.conn);
    if (first.conn) c.release(std::move(first.conn), true);
    return ep;
  }

  // The server side of the newest connection.
  tcp::socket& accept_one() {
    accepted.push_back(acceptor.accept());
    return accepted.back();
  }
};

TEST_F(PoolTest, ReleasedConnectionIsReusedAndCounted) {
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(acceptor.local_endpoint().port())});
  auto ep = c.pick(0);

  auto first = acquire(c, ep, Cluster::Reuse::pooled);
  ASSERT_TRUE(first.conn);
  accept_one();
  EXPECT_FALSE(first.conn->reused);
  EXPECT_EQ(metrics.active_connections.value(), 1);
  auto* raw = first.conn.get();
  c.release(std::move(first.conn), true);
  EXPECT_EQ(c.report()[0].idle, 1u);

  auto second = acquire(c, ep, Cluster::Reuse::pooled);
  ASSERT_TRUE(second.conn);
  EXPECT_EQ(second.conn.get(), raw);
  EXPECT_TRUE(second.conn->reused);
  EXPECT_EQ(metrics.active_connections.value(), 1);
  c.release(std::move(second.conn), false);
  EXPECT_EQ(metrics.active_connections.value(), 0);
  EXPECT_EQ(c.report()[0].idle, 0u);
}

TEST_F(PoolTest, PooledConnectionGivesBackAGrownReadBuffer) {
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(acceptor.local_endpoint().port())});
  auto first = acquire(c, c.pick(0), Cluster::Reuse::pooled);
  ASSERT_TRUE(first.conn);
  accept_one();
  first.conn->rbuf.space(256 * 1024);  // a large response head grew it
  ASSERT_GE(first.conn->rbuf.capacity(), 256u * 1024);
  auto* raw = first.conn.get();
  c.release(std::move(first.conn), true);
  auto again = acquire(c, c.pick(0), Cluster::Reuse::pooled);
  ASSERT_EQ(again.conn.get(), raw);
  EXPECT_EQ(again.conn->rbuf.capacity(), 0u);
}

TEST_F(PoolTest, ConnectionClosedByTheUpstreamIsDropped) {
  Cluster c(io, cfg, metrics);
  auto ep = one_pooled(c);
  accept_one().close();  // the upstream's keep-alive timeout ran out

  // Loopback delivers the FIN before close() returns, so the check sees it.
  auto next = acquire(c, ep, Cluster::Reuse::pooled);
  ASSERT_TRUE(next.conn);
  EXPECT_FALSE(next.conn->reused);
  EXPECT_EQ(c.report()[0].idle, 0u);
  EXPECT_EQ(metrics.active_connections.value(), 1);
}

TEST_F(PoolTest, ConnectionWithUnaskedBytesIsDropped) {
  Cluster c(io, cfg, metrics);
  auto ep = one_pooled(c);
  asio::write(accept_one(), asio::buffer(std::string_view("HTTP/1.1 408 Timeout\r\n\r\n")));

  auto next = acquire(c, ep, Cluster::Reuse::pooled);
  ASSERT_TRUE(next.conn);
  EXPECT_FALSE(next.conn->reused);
  EXPECT_EQ(metrics.active_connections.value(), 1);
}

TEST_F(PoolTest, FreshSkipsThePool) {
  Cluster c(io, cfg, metrics);
  auto ep = one_pooled(c);
  auto next = acquire(c, ep, Cluster::Reuse::fresh);
  ASSERT_TRUE(next.conn);
  EXPECT_FALSE(next.conn->reused);
  EXPECT_EQ(c.report()[0].idle, 1u);
  EXPECT_EQ(metrics.active_connections.value(), 2);
}

TEST_F(PoolTest, PoolKeepsAtMostMaxIdlePerEndpoint) {
  cfg.max_idle_per_endpoint = 2;
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(acceptor.local_endpoint().port())});
  auto ep = c.pick(0);
  std::vector<std::unique_ptr<Connection>> open;
  for (int i = 0; i < 3; ++i) open.push_back(acquire(c, ep, Cluster::Reuse::fresh).conn);
  for (auto& conn : open) c.release(std::move(conn), true);
  EXPECT_EQ(c.report()[0].idle, 2u);
  EXPECT_EQ(metrics.active_connections.value(), 2);
}

TEST_F(PoolTest, SweepClosesConnectionsIdleLongerThanTheTimeout) {
  cfg.idle_timeout = std::chrono::seconds(30);
  Cluster c(io, cfg, metrics);
  one_pooled(c);
  auto now = std::chrono::steady_clock::now();
  c.sweep_idle(now + std::chrono::seconds(29), false);
  EXPECT_EQ(c.report()[0].idle, 1u);
  c.sweep_idle(now + std::chrono::seconds(31), false);
  EXPECT_EQ(c.report()[0].idle, 0u);
  EXPECT_EQ(metrics.active_connections.value(), 0);
}

TEST_F(PoolTest, EndpointFailingToConnectIsEjectedFromRotation) {
  tcp::acceptor dead(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto dead_port = dead.local_endpoint().port();
  dead.close();
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(dead_port), endpoint(acceptor.local_endpoint().port())});
  std::shared_ptr<EndpointState> bad;
  for (int i = 0; i < 2 && !bad; ++i)
    if (auto e = c.pick(0); e->ep.address.port() == dead_port) bad = e;
  ASSERT_TRUE(bad);

  for (uint32_t i = 0; i < Cluster::kEjectAfterFailures; ++i) {
    EXPECT_FALSE(c.report()[0].ejected) << i;
    EXPECT_FALSE(acquire(c, bad, Cluster::Reuse::fresh).conn);
  }
  EXPECT_TRUE(c.report()[0].ejected);
  EXPECT_FALSE(c.report()[1].ejected);
  EXPECT_EQ(metrics.ejections.value(), 1u);
  for (int i = 0; i < 20; ++i) EXPECT_NE(c.pick(static_cast<uint64_t>(i)), bad);
}

TEST_F(PoolTest, TheOnlyEndpointIsNeverEjected) {
  auto port = acceptor.local_endpoint().port();
  acceptor.close();
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(port)});
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(acquire(c, c.pick(0), Cluster::Reuse::fresh).conn);
  EXPECT_FALSE(c.report()[0].ejected);
  EXPECT_EQ(metrics.ejections.value(), 0u);
  EXPECT_NE(c.pick(0), nullptr);
}

TEST_F(PoolTest, ConnectFailureIsCounted) {
  auto port = acceptor.local_endpoint().port();
  acceptor.close();  // nothing listens there now
  Cluster c(io, cfg, metrics);
  c.set_endpoints({endpoint(port)});
  auto r = acquire(c, c.pick(0), Cluster::Reuse::pooled);
  EXPECT_FALSE(r.conn);
  EXPECT_EQ(r.error, AcquireError::connect_failed);
  EXPECT_EQ(metrics.connect_failures.value(), 1u);
  EXPECT_EQ(metrics.active_connections.value(), 0);
}

}  // namespace
}  // namespace basalt::upstream
