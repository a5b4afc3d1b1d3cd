// Request metrics kept per worker thread and summed when Prometheus scrapes them.
//
// Each worker owns one WorkerShard and is its only writer; the admin thread reads every shard
// at scrape time. The request path therefore takes no lock, does no allocation and looks up no
// names: the gateway resolves a route index, an upstream index and a target slot when the
// config loads, and the shards are sized from the same config.
//
//   observe::Metrics metrics(cfg, /*workers=*/4);
//   observe::WorkerShard& shard = metrics.shard(worker_index);      // once per worker
//   shard.route(route_index).count(observe::target_slot(split_index), 200);
//   shard.route(route_index).duration.observe_us(1840);
//   shard.rejected(observe::Reject::no_route).inc();
//   std::string text = metrics.render_prometheus();                 // admin thread
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"

namespace basalt::observe {

// Reasons a request is refused or fails. Each is a value of the `reason` label of
// basalt_rejections_total, spelled as the enumerator (reject_name).
enum class Reject : uint8_t {
  bad_request,
  header_too_large,
  too_many_headers,
  body_too_large,
  unsupported_transfer_coding,
  header_timeout,
  read_timeout,
  no_route,
  upstream_connect_failed,
  upstream_timeout,
  upstream_reset,
  upstream_bad_response,
  draining,
  too_many_connections,
  client_closed,
  kCount
};

// The label value of `r` ("no_route"); empty for kCount.
std::string_view reject_name(Reject r);

// A monotonically increasing count with a single writer thread. inc() is a relaxed load and a
// relaxed store, not a locked read-modify-write: only the owning worker writes, so no update
// can be lost, and readers on other threads see some recent value.
class Counter {
 public:
  void inc(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// A signed level (open connections) with a single writer thread, same scheme as Counter. Only
// the sum over all shards is exported.
class Gauge {
 public:
  void add(int64_t d) {
    v_.store(v_.load(std::memory_order_relaxed) + d, std::memory_order_relaxed);
  }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Latency histogram with fixed bucket bounds, in seconds:
//   0.0001 0.00025 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 30 +Inf
// A value equal to a bound falls in that bound's bucket (Prometheus `le`). Observations are
// integer microseconds so the request path stays off floating point. Single writer thread.
class Histogram {
 public:
  static constexpr size_t kBounds = 17;            // finite upper bounds
  static constexpr size_t kBuckets = kBounds + 1;  // plus +Inf
  static constexpr std::array<uint64_t, kBounds> kBoundsUs = {
      100,     250,     500,     1'000,     2'500,     5'000,     10'000,     25'000,    50'000,
      100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000, 30'000'000};
  // The `le` label text of each bucket, +Inf last.
  static constexpr std::array<std::string_view, kBuckets> kLeText = {
      "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
      "0.1",    "0.25",    "0.5",    "1",     "2.5",    "5",     "10",   "30",    "+Inf"};

  void observe_us(uint64_t us) {
    buckets_[bucket_index(us)].inc();
    sum_us_.inc(us);
  }

  // Index of the bucket (not cumulative) that `us` falls in: the first bound >= us, or kBounds
  // for +Inf.
  static size_t bucket_index(uint64_t us) {
    return static_cast<size_t>(std::lower_bound(kBoundsUs.begin(), kBoundsUs.end(), us) -
                               kBoundsUs.begin());
  }

  // Plain sums that a scrape accumulates across shards.
  struct Totals {
    std::array<uint64_t, kBuckets> buckets{};  // per bucket, not cumulative
    uint64_t sum_us = 0;
    uint64_t count() const;
  };
  void add_to(Totals& t) const;

 private:
  std::array<Counter, kBuckets> buckets_;
  Counter sum_us_;
};

// Target slots of a route, as used by RouteShard::count.
inline constexpr size_t kNoUpstreamSlot = 0;  // direct response, redirect or rejected
constexpr size_t target_slot(size_t split_index) { return 1 + split_index; }

// One route's share of a worker's metrics. There is one per route, in config order, plus the
// "no route" slot at index routes.size() whose route label is "".
class alignas(64) RouteShard {
 public:
  // Status cells per target slot: index 0 counts codes outside 100..599 (label code="0"),
  // index 1 + (status - 100) counts each code in 100..599. A full row per slot costs 4 KiB per
  // worker and buys a branch-free, lookup-free count().
  static constexpr size_t kStatusCells = 501;
  static constexpr size_t status_cell(int status) {
    return status >= 100 && status <= 599 ? static_cast<size_t>(status - 99) : 0;
  }

  // basalt_requests_total{route, upstream, code}: counts one response. `slot` is
  // kNoUpstreamSlot or target_slot(i) for the route's i-th split target; a slot beyond the
  // route's targets is a caller bug (asserted in debug builds, counted in slot 0 otherwise).
  void count(size_t slot, int status) {
    assert(slot < slots_);
    if (slot >= slots_) [[unlikely]] {
      slot = kNoUpstreamSlot;
    }
    cells_[slot * kStatusCells + status_cell(status)].inc();
  }

  Histogram duration;  // basalt_request_duration_seconds{route}

  size_t slots() const { return slots_; }  // 1 + the route's split targets
  uint64_t cell(size_t slot, size_t status_cell) const {
    return cells_[slot * kStatusCells + status_cell].value();
  }

 private:
  friend class Metrics;
  Counter* cells_ = nullptr;  // slots_ * kStatusCells, in the owning WorkerShard's storage
  size_t slots_ = 0;
};

// One upstream's share of a worker's metrics, indexed like cfg.upstreams.
struct alignas(64) UpstreamShard {
  Histogram upstream_duration;  // basalt_upstream_duration_seconds{upstream}
  Counter connect_failures;     // basalt_upstream_connect_failures_total{upstream}
  Counter ejections;            // basalt_upstream_ejections_total{upstream}
  Gauge active_connections;     // basalt_upstream_connections_active{upstream}
};

// Allocates whole cache lines, so that an array of counters shares no line with memory written
// by another thread.
template <typename T>
struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};

  CacheLineAllocator() = default;
  template <typename U>
  CacheLineAllocator(const CacheLineAllocator<U>&) {}

  T* allocate(size_t n) { return static_cast<T*>(::operator new(round_up(n), kAlign)); }
  void deallocate(T* p, size_t n) { ::operator delete(p, round_up(n), kAlign); }
  static size_t round_up(size_t n) { return (n * sizeof(T) + 63) / 64 * 64; }

  template <typename U>
  bool operator==(const CacheLineAllocator<U>&) const {
    return true;
  }
};

// Everything one worker thread records. Written only by that worker.
class alignas(64) WorkerShard {
 public:
  // i in [0, routes.size()]; routes.size() is the "no route" slot.
  RouteShard& route(size_t i) {
    assert(i < routes_.size());
    return routes_[i];
  }
  const RouteShard& route(size_t i) const {
    assert(i < routes_.size());
    return routes_[i];
  }
  // i indexes cfg.upstreams.
  UpstreamShard& upstream(size_t i) {
    assert(i < upstreams_.size());
    return upstreams_[i];
  }
  const UpstreamShard& upstream(size_t i) const {
    assert(i < upstreams_.size());
    return upstreams_[i];
  }

  // basalt_rejections_total{reason}
  Counter& rejected(Reject r) { return rejected_[static_cast<size_t>(r)]; }
  const Counter& rejected(Reject r) const { return rejected_[static_cast<size_t>(r)]; }

  Gauge active_downstream;         // basalt_downstream_connections_active
  Counter downstream_connections;  // basalt_downstream_connections_total
  Counter bytes_received;          // basalt_downstream_bytes_received_total
  Counter bytes_sent;              // basalt_downstream_bytes_sent_total

 private:
  friend class Metrics;

  std::array<Counter, static_cast<size_t>(Reject::kCount)> rejected_;
  std::vector<RouteShard> routes_;  // including the "no route" slot
  std::vector<UpstreamShard> upstreams_;
  std::vector<Counter, CacheLineAllocator<Counter>> status_cells_;  // all routes' cells
};

class Metrics {
 public:
  // Sizes every shard from cfg (route count, each route's split targets, upstream count) and
  // keeps the label strings: route names, the upstream name of each route target slot, upstream
  // names. cfg is not referenced afterwards. Route and upstream names are expected to be unique
  // (the loader refuses duplicates); split targets naming the same upstream share one series.
  Metrics(const config::Config& cfg, size_t workers);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  WorkerShard& shard(size_t worker);
  const WorkerShard& shard(size_t worker) const;
  size_t workers() const { return shards_.size(); }
  size_t route_count() const { return routes_.size() - 1; }  // config routes only
  size_t no_route_index() const { return routes_.size() - 1; }
  size_t upstream_count() const { return upstream_labels_.size(); }

  // Prometheus text exposition format 0.0.4, summing all shards: # HELP and # TYPE for every
  // family; counters end in _total; histograms as cumulative _bucket{le=...}, _sum (seconds)
  // and _count; basalt_requests_total only for non-zero cells; label values escaped (\\ \" \n).
  // Also basalt_build_info{version="..."} 1 and basalt_process_start_time_seconds.
  // Called from the admin thread; allocates freely.
  std::string render_prometheus() const;

 private:
  // Label text of one route, escaped once here rather than at every scrape: its route label and
  // the distinct upstream labels of its target slots.
  struct RouteLabels {
    std::string route;                   // route="name"
    std::vector<std::string> upstreams;  // upstream="name", distinct; [0] is upstream=""
    std::vector<size_t> slot_to_label;   // target slot -> index into upstreams
  };

  void size_shard(WorkerShard& s) const;
  void render_requests(std::string& out) const;
  void render_request_durations(std::string& out) const;
  void render_rejections(std::string& out) const;
  void render_downstream(std::string& out) const;
  void render_upstreams(std::string& out) const;

  std::vector<RouteLabels> routes_;           // config order, then the no-route slot (name "")
  std::vector<std::string> upstream_labels_;  // upstream="name", like cfg.upstreams
  std::vector<WorkerShard> shards_;
};

// Microseconds since the Unix epoch at which this process started (captured during static
// initialization, so it survives config reloads that rebuild Metrics), exported as
// basalt_process_start_time_seconds.
uint64_t process_start_time_us();

}  // namespace basalt::observe
