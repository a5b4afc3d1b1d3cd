// Process lifetime: start workers and admin, resolve DNS, drain on a signal. See server.h.
#include "gateway/server.h"

#include <sched.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "admin/admin.h"
#include "gateway/worker.h"
#include "net/listener.h"
#include "observe/log.h"
#include "upstream/dns_refresh.h"

namespace basalt::gateway {
namespace {

namespace asio = boost::asio;
namespace log = observe::log;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// CPUs this process may really use: the ones its affinity mask allows, capped by a cgroup v2
// CPU quota ("cpu.max": "QUOTA PERIOD", or "max"), which is how containers are usually limited.
// A worker per core the process cannot run on would only add context switches.
size_t usable_cpus() {
  size_t n = std::thread::hardware_concurrency();
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = static_cast<size_t>(CPU_COUNT(&set));
  std::ifstream max("/sys/fs/cgroup/cpu.max");
  std::string quota;
  uint64_t period = 0;
  if (max >> quota >> period && quota != "max" && period > 0) {
    uint64_t q = std::strtoull(quota.c_str(), nullptr, 10);
    if (q > 0) n = std::min<size_t>(n, static_cast<size_t>((q + period - 1) / period));
  }
  return std::max<size_t>(n, 1);
}

size_t worker_count(const config::Config& cfg) {
  static const size_t cpus = usable_cpus();
  return cfg.workers > 0 ? cfg.workers : cpus;
}

class Server {
 public:
  explicit Server(std::shared_ptr<const config::Config> cfg)
      : cfg_(std::move(cfg)),
        runtime_(Runtime::build(cfg_)),
        metrics_(*cfg_, worker_count(*cfg_)) {}

  int run() {
    if (!open_access_log()) return 1;
    for (size_t i = 0; i < worker_count(*cfg_); ++i)
      workers_.push_back(std::make_unique<Worker>(i, runtime_, metrics_, access_log_.get()));
    resolve_at_start();
    if (!bind_listeners()) return 1;
    if (!start_admin()) return 1;

    for (auto& w : workers_) w->start();
    ready_ = true;
    log::info("gateway", "ready", {{"workers", static_cast<int64_t>(workers_.size())}});
    log::mirror_errors_to_stderr(false);

    asio::co_spawn(main_io_, wait_for_signal(), asio::detached);
    asio::co_spawn(main_io_, ignore_hangups(), asio::detached);
    asio::co_spawn(main_io_, report_suppressed_logs(), asio::detached);
    main_io_.run();

    shutdown();
    return 0;
  }

 private:
  bool open_access_log() {
    if (cfg_->access_log.path == "off") return true;
    std::string err;
    access_log_ = observe::AccessLog::open(cfg_->access_log.path, worker_count(*cfg_), &err);
    if (!access_log_) {
      log::error("gateway", "cannot open access log",
                 {{"path", cfg_->access_log.path}, {"error", err}});
      return false;
    }
    return true;
  }

  // Every worker gets its own socket per listener; the first one fixes the port when the
  // config asks for port 0, the others bind that same port.
  bool bind_listeners() {
    for (const auto& l : cfg_->listeners) {
      config::HostPort address = l.address;
      for (auto& w : workers_) {
        std::string err;
        bool first = w.get() == workers_.front().get();
        auto acceptor = net::listen(
            w->io(), address, first ? net::Sharing::group_first : net::Sharing::group_member, &err);
        if (!acceptor) {
          log::error("listener", "cannot listen", {{"listener", l.name}, {"error", err}});
          return false;
        }
        address.port = acceptor->local_endpoint().port();
        if (first)
          log::info("listener", "listening",
                    {{"listener", l.name}, {"address", net::format(acceptor->local_endpoint())}});
        w->add_listener(l.name, std::move(*acceptor));
      }
    }
    return true;
  }

  bool start_admin() {
    if (!cfg_->admin.enabled) return true;
    admin::Hooks hooks;
    hooks.ready = [this] { return ready_.load(); };
    hooks.metrics = [this] {
      std::string text = metrics_.render_prometheus();
      observe::AccessLog::append_prometheus(text, access_log_.get());
      return text;
    };
    hooks.config = [this] { return cfg_->redacted_json; };
    hooks.upstreams = [this] { return upstreams_json(); };
    std::string err;
    admin_ = admin::Server::start(cfg_->admin, std::move(hooks), &err);
    if (!admin_) {
      log::error("admin", "cannot listen", {{"error", err}});
      return false;
    }
    log::info("admin", "listening", {{"address", admin_->address()}});
    return true;
  }

  // Endpoints and their state summed over workers (requests in flight, idle connections).
  std::string upstreams_json() {
    std::vector<std::vector<std::vector<upstream::EndpointReport>>> per_worker;
    for (auto& w : workers_) per_worker.push_back(w->report_upstreams());
    nlohmann::json ups = nlohmann::json::array();
    for (size_t u = 0; u < cfg_->upstreams.size(); ++u) {
      const auto& uc = cfg_->upstreams[u];
      nlohmann::json eps = nlohmann::json::array();
      if (!per_worker.empty() && per_worker[0].size() > u) {
        for (size_t e = 0; e < per_worker[0][u].size(); ++e) {
          const auto& first = per_worker[0][u][e];
          uint64_t active = 0, idle = 0, ejected = 0;
          for (const auto& w : per_worker) {
            if (w.size() <= u || w[u].size() <= e) continue;
            active += w[u][e].active;
            idle += w[u][e].idle;
            ejected += w[u][e].ejected ? 1 : 0;
          }
          // Each worker learns of a failing endpoint by itself; "ejected" while any has.
          eps.push_back({{"address", first.address},
                         {"resolved", first.resolved},
                         {"weight", first.weight},
                         {"state", ejected > 0 ? "ejected" : "in_rotation"},
                         {"ejected_workers", ejected},
                         {"active_requests", active},
                         {"idle_connections", idle}});
        }
      }
      ups.push_back({{"name", uc.name},
                     {"balancer", uc.balancer == config::Balancer::least_request ? "least_request"
                                                                                 : "round_robin"},
                     {"endpoints", eps}});
    }
    return nlohmann::json{{"upstreams", ups}}.dump(2) + "\n";
  }

  // Resolves every upstream once and hands the result to every worker; DnsRefresh then keeps
  // the ones that name hosts current, on its own thread.
  void resolve_at_start() {
    std::vector<std::vector<upstream::ResolvedEndpoint>> initial;
    for (size_t u = 0; u < cfg_->upstreams.size(); ++u) {
      const auto& uc = cfg_->upstreams[u];
      std::string err;
      auto eps = upstream::resolve(uc, &err);
      if (!err.empty())
        log::warn("upstream", "resolution failed", {{"upstream", uc.name}, {"error", err}});
      for (auto& w : workers_) w->post_endpoints(u, eps);
      initial.push_back(std::move(eps));
    }
    dns_ = std::make_unique<upstream::DnsRefresh>(
        cfg_->upstreams, std::move(initial),
        [this](size_t u, std::vector<upstream::ResolvedEndpoint> eps) {
          for (auto& w : workers_) w->post_endpoints(u, eps);
        });
  }

  // Rate-limited warnings say how many lines they dropped even when the log goes quiet.
  asio::awaitable<void> report_suppressed_logs() {
    asio::steady_timer timer(main_io_);
    while (!stopping_) {
      timer.expires_after(std::chrono::seconds(1));
      auto [ec] = co_await timer.async_wait(kAwait);
      if (ec) co_return;
      log::report_suppressed();
    }
  }

  // SIGHUP's default action ends the process on the spot, with no drain. Until the config
  // can be reloaded it is answered with a warning instead.
  asio::awaitable<void> ignore_hangups() {
    for (;;) {
      auto [ec, sig] = co_await hangups_.async_wait(kAwait);
      if (ec) co_return;
      log::warn("gateway", "SIGHUP ignored: reloading the config is not supported yet",
                {{"config", cfg_->file}});
    }
  }

  asio::awaitable<void> wait_for_signal() {
    auto [ec, sig] = co_await signals_.async_wait(kAwait);
    log::info("gateway", "draining", {{"signal", static_cast<int64_t>(sig)}});
    stopping_ = true;
    ready_ = false;
    hangups_.cancel();
    for (auto& w : workers_) w->begin_drain();
    co_await wait_for_drain();
    main_io_.stop();
  }

  // In-flight requests finish, bounded by drain_timeout; then whatever is left is cut: each
  // request still under way is ended (answered 503 if it can be, logged and counted as
  // `draining`), and a second, short wait lets those lines reach the access log.
  asio::awaitable<void> wait_for_drain() {
    constexpr auto kAbortGrace = std::chrono::seconds(1);
    auto now = std::chrono::steady_clock::now();
    if (co_await wait_for_close(now + cfg_->limits.drain_timeout)) co_return;
    log::warn("gateway", "drain timeout, closing connections",
              {{"open_connections", static_cast<int64_t>(open_connections())}});
    for (auto& w : workers_) w->abort_connections();
    co_await wait_for_close(std::chrono::steady_clock::now() + kAbortGrace);
  }

  // True once no connection is open, false when `deadline` comes first.
  asio::awaitable<bool> wait_for_close(std::chrono::steady_clock::time_point deadline) {
    asio::steady_timer timer(main_io_);
    for (;;) {
      if (open_connections() == 0) co_return true;
      if (std::chrono::steady_clock::now() >= deadline) co_return false;
      timer.expires_after(std::chrono::milliseconds(25));
      co_await timer.async_wait(kAwait);
    }
  }

  size_t open_connections() const {
    size_t open = 0;
    for (const auto& w : workers_) open += w->open_connections();
    return open;
  }

  void shutdown() {
    if (dns_) dns_->stop();  // it posts to workers
    for (auto& w : workers_) w->stop();
    for (auto& w : workers_) w->join();
    if (admin_) admin_->stop();
    workers_.clear();
    if (access_log_) access_log_->stop();
    log::info("gateway", "stopped");
  }

  std::shared_ptr<const config::Config> cfg_;
  std::shared_ptr<const Runtime> runtime_;
  observe::Metrics metrics_;
  std::unique_ptr<observe::AccessLog> access_log_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<admin::Server> admin_;
  std::unique_ptr<upstream::DnsRefresh> dns_;
  asio::io_context main_io_{1};
  // Installed when the server is built, before any thread starts, so an early SIGTERM drains.
  asio::signal_set signals_{main_io_, SIGTERM, SIGINT};
  asio::signal_set hangups_{main_io_, SIGHUP};
  std::atomic<bool> ready_{false};
  bool stopping_ = false;
};

}  // namespace

int run_server(std::shared_ptr<const config::Config> cfg) {
  Server server(std::move(cfg));
  return server.run();
}

}  // namespace basalt::gateway
