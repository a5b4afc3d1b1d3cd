// The request path's promise: recording metrics and formatting an access log line allocate
// nothing once warmed up. Global operator new is replaced in this test binary to count the
// allocations made by the calling thread.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "observe/access_log.h"
#include "observe/metrics.h"

namespace {
thread_local size_t t_allocations = 0;
}  // namespace

void* operator new(size_t n) {
  ++t_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace basalt::observe {
namespace {

TEST(NoAllocation, TheCounterSeesAllocations) {
  const size_t before = t_allocations;
  auto* v = new std::string(1000, 'x');
  EXPECT_GT(t_allocations, before);
  delete v;
}

TEST(NoAllocation, RecordingMetrics) {
  config::Config cfg;
  cfg.upstreams.resize(1);
  cfg.upstreams[0].name = "users";
  cfg.routes.resize(1);
  cfg.routes[0].name = "users-api";
  cfg.routes[0].split.push_back(config::WeightedTarget{"users", 1, {}});
  Metrics m(cfg, 1);
  WorkerShard& s = m.shard(0);

  const size_t before = t_allocations;
  for (int i = 0; i < 1000; ++i) {
    s.route(0).count(target_slot(0), 200 + i % 5);
    s.route(0).duration.observe_us(static_cast<uint64_t>(i) * 37);
    s.upstream(0).upstream_duration.observe_us(static_cast<uint64_t>(i));
    s.rejected(Reject::no_route).inc();
    s.active_downstream.add(1);
    s.bytes_sent.inc(100);
  }
  EXPECT_EQ(t_allocations, before);
}

TEST(NoAllocation, WritingAccessLogLines) {
  std::string err;
  auto log = AccessLog::open("/dev/null", 1, &err);
  ASSERT_TRUE(log) << err;
  AccessRecord r;
  r.time = std::chrono::sys_days{std::chrono::year{2026} / 12 / 3} + std::chrono::hours{19};
  r.request_id = "0123456789abcdef";
  r.path = "/users/\xff\"1\"";
  r.method = "GET";
  r.status = 200;
  r.duration_us = 1234;

  // 100 lines of ~300 bytes stay below the hand-over mark: only formatting is measured.
  const size_t before = t_allocations;
  for (int i = 0; i < 100; ++i) log->write(0, r);
  EXPECT_EQ(t_allocations, before);
  log->flush(0);
}

}  // namespace
}  // namespace basalt::observe
