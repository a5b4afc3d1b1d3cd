// Worker thread: accept loops, housekeeping, cross-thread requests. See worker.h.
#include "gateway/worker.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>
#include <random>

#include "observe/log.h"

namespace basalt::gateway {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr auto kTick = std::chrono::milliseconds(100);

uint64_t seed_for(size_t index) {
  std::random_device rd;
  return (uint64_t{rd()} << 32 | rd()) ^ (index * 0x9e3779b97f4a7c15ULL);
}

}  // namespace

Worker::Worker(size_t index, std::shared_ptr<const Runtime> runtime, observe::Metrics& metrics,
               observe::AccessLog* access_log)
    : index_(index),
      runtime_(std::move(runtime)),
      shard_(metrics.shard(index)),
      access_log_(access_log),
      random_(seed_for(index)) {
  const auto& ups = runtime_->cfg->upstreams;
  for (size_t u = 0; u < ups.size(); ++u)
    clusters_.push_back(std::make_unique<upstream::Cluster>(io_, ups[u], shard_.upstream(u)));
}

Worker::~Worker() {
  stop();
  join();
  connections_.clear();
  clusters_.clear();
}

void Worker::add_listener(std::string name, tcp::acceptor acceptor) {
  listeners_.push_back(std::make_unique<Listener>(Listener{std::move(name), std::move(acceptor)}));
}

void Worker::start() {
  for (auto& l : listeners_) asio::co_spawn(io_, accept_loop(*l), asio::detached);
  asio::co_spawn(io_, housekeeping(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

// A coroutine lambda would lose its captures when the lambda object dies, so the loops are
// member coroutines taking what they need as parameters.
asio::awaitable<void> Worker::accept_loop(Listener& l) {
  {
    const uint32_t max_connections = runtime_->cfg->limits.max_connections;
    asio::steady_timer backoff(io_);
    while (!draining_) {
      auto [ec, socket] = co_await l.acceptor.async_accept(kAwait);
      if (draining_) break;
      if (ec) {
        // Out of descriptors or memory: wait a little instead of spinning on the error.
        observe::log::warn("listener", "accept failed",
                           {{"listener", l.name}, {"error", ec.message()}});
        backoff.expires_after(std::chrono::milliseconds(50));
        co_await backoff.async_wait(kAwait);
        continue;
      }
      if (open_.load(std::memory_order_relaxed) >= max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);
        shard_.rejected(observe::Reject::too_many_connections).inc();
        continue;
      }
      Connection::start(*this, std::move(socket));
    }
  }
}

asio::awaitable<void> Worker::housekeeping() {
  {
    int ticks = 0;
    for (;;) {
      tick_.expires_after(kTick);
      auto [ec] = co_await tick_.async_wait(kAwait);
      if (ec) break;
      if (access_log_) access_log_->flush(index_);
      for (auto& c : connections_) c->check_client();
      if (++ticks % 10 == 0) {
        auto now = std::chrono::steady_clock::now();
        for (auto& c : clusters_) c->sweep_idle(now, false);
      }
    }
  }
}

std::list<std::unique_ptr<Connection>>::iterator Worker::track(std::unique_ptr<Connection> c) {
  open_.fetch_add(1, std::memory_order_relaxed);
  connections_.push_front(std::move(c));
  return connections_.begin();
}

void Worker::connection_closed(std::list<std::unique_ptr<Connection>>::iterator it) {
  open_.fetch_sub(1, std::memory_order_relaxed);
  connections_.erase(it);
}

void Worker::begin_drain() {
  asio::post(io_, [this] {
    draining_ = true;
    boost::system::error_code ec;
    for (auto& l : listeners_) l->acceptor.close(ec);
    for (auto& c : connections_) c->drain();
    for (auto& c : clusters_) c->sweep_idle({}, true);
  });
}

void Worker::abort_connections() {
  asio::post(io_, [this] {
    for (auto& c : connections_) c->abort();
  });
}

void Worker::stop() {
  asio::post(io_, [this] {
    if (access_log_) access_log_->flush(index_);
    tick_.cancel();
    io_.stop();
  });
}

void Worker::post_endpoints(size_t upstream, std::vector<upstream::ResolvedEndpoint> endpoints) {
  asio::post(io_, [this, upstream, eps = std::move(endpoints)] {
    clusters_[upstream]->set_endpoints(eps);
  });
}

std::vector<std::vector<upstream::EndpointReport>> Worker::report_upstreams() {
  using Report = std::vector<std::vector<upstream::EndpointReport>>;
  auto done = std::make_shared<std::promise<Report>>();
  auto result = done->get_future();
  asio::post(io_, [this, done] {
    Report r;
    for (auto& c : clusters_) r.push_back(c->report());
    done->set_value(std::move(r));
  });
  if (result.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return {};
  return result.get();
}

}  // namespace basalt::gateway
