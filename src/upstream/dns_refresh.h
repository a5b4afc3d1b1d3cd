// Re-resolves the DNS names of upstream endpoints, each upstream on its own dns_refresh
// interval, on a thread of its own: getaddrinfo blocks (for seconds when a resolver is away),
// and neither the workers nor the main thread, which handles signals and the drain, may wait
// on it.
//
// A lookup that yields no address keeps the last good list (a DNS outage must not empty a
// cluster); a changed list is handed to `publish`, which posts it to every worker.
//
//   upstream::DnsRefresh dns(cfg.upstreams, [&](size_t u, std::vector<ResolvedEndpoint> eps) {
//     for (auto& w : workers) w->post_endpoints(u, eps);
//   });
//   ...
//   dns.stop();   // prompt, even in the middle of an interval
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "config/model.h"
#include "upstream/resolver.h"

namespace basalt::upstream {

class DnsRefresh {
 public:
  using Publish = std::function<void(size_t upstream, std::vector<ResolvedEndpoint> endpoints)>;

  // Starts the thread when some upstream names a host; `upstreams` must outlive this object.
  // `initial[u]` is what upstream u resolved to at load (the list changes are compared with).
  DnsRefresh(const std::vector<config::UpstreamConfig>& upstreams,
             std::vector<std::vector<ResolvedEndpoint>> initial, Publish publish);
  ~DnsRefresh();

  void stop();

 private:
  void run();

  const std::vector<config::UpstreamConfig>& upstreams_;
  std::vector<std::vector<ResolvedEndpoint>> current_;
  Publish publish_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace basalt::upstream
