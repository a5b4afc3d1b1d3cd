// Periodic re-resolution of upstream DNS names. See dns_refresh.h.
#include "upstream/dns_refresh.h"

#include <algorithm>
#include <chrono>

#include "observe/log.h"

namespace basalt::upstream {
namespace {

namespace log = observe::log;
using Clock = std::chrono::steady_clock;

}  // namespace

DnsRefresh::DnsRefresh(const std::vector<config::UpstreamConfig>& upstreams,
                       std::vector<std::vector<ResolvedEndpoint>> initial, Publish publish)
    : upstreams_(upstreams), current_(std::move(initial)), publish_(std::move(publish)) {
  current_.resize(upstreams_.size());
  bool any = std::any_of(upstreams_.begin(), upstreams_.end(),
                         [](const auto& u) { return needs_dns(u) && u.dns_refresh.count() > 0; });
  if (any) thread_ = std::thread([this] { run(); });
}

DnsRefresh::~DnsRefresh() { stop(); }

void DnsRefresh::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DnsRefresh::run() {
  // Each upstream that names hosts is due every dns_refresh; the thread sleeps until the
  // earliest one is due (or stop() wakes it).
  std::vector<Clock::time_point> due(upstreams_.size(), Clock::time_point::max());
  for (size_t u = 0; u < upstreams_.size(); ++u)
    if (needs_dns(upstreams_[u]) && upstreams_[u].dns_refresh.count() > 0)
      due[u] = Clock::now() + upstreams_[u].dns_refresh;

  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = *std::min_element(due.begin(), due.end());
    if (wake_.wait_until(lock, next, [this] { return stopping_; })) break;
    lock.unlock();
    for (size_t u = 0; u < upstreams_.size(); ++u) {
      if (Clock::now() < due[u]) continue;
      const auto& cfg = upstreams_[u];
      std::string err;
      auto eps = resolve(cfg, &err);
      due[u] = Clock::now() + cfg.dns_refresh;
      if (!err.empty())
        log::warn("upstream", "resolution failed", {{"upstream", cfg.name}, {"error", err}});
      if (eps.empty() || eps == current_[u]) continue;  // keep the last good list
      log::info("upstream", "endpoints changed",
                {{"upstream", cfg.name}, {"endpoints", static_cast<int64_t>(eps.size())}});
      current_[u] = eps;
      publish_(u, std::move(eps));
    }
    lock.lock();
  }
}

}  // namespace basalt::upstream
