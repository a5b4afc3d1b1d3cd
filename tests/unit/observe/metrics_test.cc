#include "observe/metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace basalt::observe {
namespace {

// One upstream "users" and one route "users-api" sending to it.
config::Config small_config() {
  config::Config cfg;
  config::UpstreamConfig users;
  users.name = "users";
  cfg.upstreams.push_back(users);
  config::RouteConfig route;
  route.name = "users-api";
  route.split.push_back(config::WeightedTarget{"users", 1, {}});
  cfg.routes.push_back(route);
  return cfg;
}

// The exposition without the start time line, whose value depends on when the test ran.
std::string without_start_time(std::string text) {
  const std::string key = "\nbasalt_process_start_time_seconds ";
  const size_t at = text.find(key);
  if (at == std::string::npos) return text;
  text.erase(at + 1, text.find('\n', at + 1) - at);
  return text;
}

// The lines of one histogram series, given its cumulative bucket counts and its sum as text.
std::string histogram_text(const std::string& family, const std::string& labels,
                           const std::vector<uint64_t>& cumulative, const std::string& sum) {
  std::string out;
  const std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i < Histogram::kBuckets; ++i) {
    out += family + "_bucket{" + labels + sep + "le=\"" + std::string(Histogram::kLeText[i]) +
           "\"} " + std::to_string(cumulative[i]) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += family + "_sum" + braces + " " + sum + "\n";
  out += family + "_count" + braces + " " + std::to_string(cumulative.back()) + "\n";
  return out;
}

TEST(Reject, NamesAreTheEnumeratorsInSnakeCase) {
  EXPECT_EQ(reject_name(Reject::bad_request), "bad_request");
  EXPECT_EQ(reject_name(Reject::unsupported_transfer_coding), "unsupported_transfer_coding");
  EXPECT_EQ(reject_name(Reject::upstream_bad_response), "upstream_bad_response");
  EXPECT_EQ(reject_name(Reject::draining), "draining");
  EXPECT_EQ(reject_name(Reject::kCount), "");
  for (size_t i = 0; i < static_cast<size_t>(Reject::kCount); ++i) {
    EXPECT_FALSE(reject_name(static_cast<Reject>(i)).empty()) << i;
  }
}

TEST(Histogram, ValueOnABoundFallsInThatBucket) {
  for (size_t i = 0; i < Histogram::kBounds; ++i) {
    EXPECT_EQ(Histogram::bucket_index(Histogram::kBoundsUs[i]), i) << Histogram::kLeText[i];
    EXPECT_EQ(Histogram::bucket_index(Histogram::kBoundsUs[i] + 1), i + 1) << Histogram::kLeText[i];
  }
  EXPECT_EQ(Histogram::bucket_index(0), 0u);
  EXPECT_EQ(Histogram::bucket_index(99), 0u);
  EXPECT_EQ(Histogram::bucket_index(30'000'001), Histogram::kBounds);  // +Inf
  EXPECT_EQ(Histogram::bucket_index(UINT64_MAX), Histogram::kBounds);
}

TEST(Histogram, BoundsMatchTheirLabels) {
  for (size_t i = 0; i < Histogram::kBounds; ++i) {
    EXPECT_DOUBLE_EQ(std::stod(std::string(Histogram::kLeText[i])) * 1e6,
                     static_cast<double>(Histogram::kBoundsUs[i]));
  }
  EXPECT_EQ(Histogram::kLeText.back(), "+Inf");
}

TEST(Histogram, TotalsAccumulateBucketsAndSum) {
  Histogram a, b;
  a.observe_us(100);
  a.observe_us(101);
  b.observe_us(50'000'000);
  Histogram::Totals t;
  a.add_to(t);
  b.add_to(t);
  EXPECT_EQ(t.buckets[0], 1u);
  EXPECT_EQ(t.buckets[1], 1u);
  EXPECT_EQ(t.buckets[Histogram::kBounds], 1u);
  EXPECT_EQ(t.count(), 3u);
  EXPECT_EQ(t.sum_us, 50'000'201u);
}

TEST(RouteShard, StatusOutsideValidRangeCountsAsOther) {
  Metrics m(small_config(), 1);
  RouteShard& r = m.shard(0).route(0);
  r.count(kNoUpstreamSlot, 42);
  r.count(kNoUpstreamSlot, 600);
  r.count(kNoUpstreamSlot, -1);
  r.count(target_slot(0), 100);
  r.count(target_slot(0), 599);
  EXPECT_EQ(r.cell(kNoUpstreamSlot, 0), 3u);
  EXPECT_EQ(r.cell(target_slot(0), RouteShard::status_cell(100)), 1u);
  EXPECT_EQ(r.cell(target_slot(0), RouteShard::status_cell(599)), 1u);
}

TEST(Metrics, ShardsAreSizedFromTheConfig) {
  config::Config cfg = small_config();
  cfg.routes.push_back(config::RouteConfig{});  // a direct response: no targets
  cfg.routes.back().name = "health";
  cfg.routes[0].split.push_back(config::WeightedTarget{"users-canary", 1, {}});
  Metrics m(cfg, 3);
  EXPECT_EQ(m.workers(), 3u);
  EXPECT_EQ(m.route_count(), 2u);
  EXPECT_EQ(m.no_route_index(), 2u);
  EXPECT_EQ(m.upstream_count(), 1u);
  EXPECT_EQ(m.shard(2).route(0).slots(), 3u);
  EXPECT_EQ(m.shard(2).route(1).slots(), 1u);
  EXPECT_EQ(m.shard(2).route(2).slots(), 1u);
}

TEST(Metrics, ShardsAreOnSeparateCacheLines) {
  Metrics m(small_config(), 2);
  const auto a = reinterpret_cast<uintptr_t>(&m.shard(0));
  const auto b = reinterpret_cast<uintptr_t>(&m.shard(1));
  EXPECT_EQ(a % 64, 0u);
  EXPECT_GE(b - a, sizeof(WorkerShard));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&m.shard(1).route(0)) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&m.shard(1).upstream(0)) % 64, 0u);
}

TEST(Metrics, CountsFromTwoShardsAreSummed) {
  Metrics m(small_config(), 2);
  m.shard(0).route(0).count(target_slot(0), 200);
  m.shard(1).route(0).count(target_slot(0), 200);
  m.shard(1).rejected(Reject::no_route).inc();
  m.shard(0).rejected(Reject::no_route).inc(2);
  m.shard(0).active_downstream.add(3);
  m.shard(1).active_downstream.add(-1);
  const std::string text = m.render_prometheus();
  EXPECT_NE(text.find("basalt_requests_total{route=\"users-api\",upstream=\"users\",code=\"200\"} "
                      "2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("basalt_rejections_total{reason=\"no_route\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("basalt_downstream_connections_active 2\n"), std::string::npos);
}

TEST(Metrics, ExpositionTextIsExact) {
  Metrics m(small_config(), 2);
  WorkerShard& w0 = m.shard(0);
  WorkerShard& w1 = m.shard(1);
  const size_t users_api = 0, none = m.no_route_index();

  w0.route(users_api).count(target_slot(0), 200);
  w0.route(users_api).count(target_slot(0), 200);
  w1.route(users_api).count(target_slot(0), 200);
  w1.route(users_api).count(target_slot(0), 502);
  w1.route(users_api).count(kNoUpstreamSlot, 42);
  w0.route(none).count(kNoUpstreamSlot, 404);
  w0.route(users_api).duration.observe_us(100);    // exactly on the 0.0001 bound
  w1.route(users_api).duration.observe_us(1'500);  // 0.0025
  w1.route(none).duration.observe_us(7);
  w0.rejected(Reject::no_route).inc();
  w1.rejected(Reject::upstream_connect_failed).inc();
  w0.active_downstream.add(2);
  w1.active_downstream.add(-1);
  w0.downstream_connections.inc(3);
  w0.bytes_received.inc(10);
  w1.bytes_sent.inc(20);
  w1.upstream(0).upstream_duration.observe_us(40'000'000);  // +Inf
  w1.upstream(0).connect_failures.inc();
  w0.upstream(0).ejections.inc();
  w0.upstream(0).active_connections.add(2);

  std::string expected =
      "# HELP basalt_build_info Build information; the value is always 1.\n"
      "# TYPE basalt_build_info gauge\n"
      "basalt_build_info{version=\"" BASALT_VERSION
      "\"} 1\n"
      "# HELP basalt_process_start_time_seconds Start time of the process since the Unix epoch, "
      "in seconds.\n"
      "# TYPE basalt_process_start_time_seconds gauge\n"
      "# HELP basalt_requests_total Responses sent, by route, upstream and status code (0: "
      "outside 100-599).\n"
      "# TYPE basalt_requests_total counter\n"
      "basalt_requests_total{route=\"users-api\",upstream=\"\",code=\"0\"} 1\n"
      "basalt_requests_total{route=\"users-api\",upstream=\"users\",code=\"200\"} 3\n"
      "basalt_requests_total{route=\"users-api\",upstream=\"users\",code=\"502\"} 1\n"
      "basalt_requests_total{route=\"\",upstream=\"\",code=\"404\"} 1\n"
      "# HELP basalt_request_duration_seconds Time from the first byte of a request to the last "
      "byte of its response.\n"
      "# TYPE basalt_request_duration_seconds histogram\n";
  expected += histogram_text("basalt_request_duration_seconds", "route=\"users-api\"",
                             {1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, "0.0016");
  expected += histogram_text("basalt_request_duration_seconds", "route=\"\"",
                             {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, "0.000007");
  expected +=
      "# HELP basalt_rejections_total Requests refused or failed, by reason.\n"
      "# TYPE basalt_rejections_total counter\n"
      "basalt_rejections_total{reason=\"bad_request\"} 0\n"
      "basalt_rejections_total{reason=\"header_too_large\"} 0\n"
      "basalt_rejections_total{reason=\"too_many_headers\"} 0\n"
      "basalt_rejections_total{reason=\"body_too_large\"} 0\n"
      "basalt_rejections_total{reason=\"unsupported_transfer_coding\"} 0\n"
      "basalt_rejections_total{reason=\"header_timeout\"} 0\n"
      "basalt_rejections_total{reason=\"read_timeout\"} 0\n"
      "basalt_rejections_total{reason=\"no_route\"} 1\n"
      "basalt_rejections_total{reason=\"upstream_connect_failed\"} 1\n"
      "basalt_rejections_total{reason=\"upstream_timeout\"} 0\n"
      "basalt_rejections_total{reason=\"upstream_reset\"} 0\n"
      "basalt_rejections_total{reason=\"upstream_bad_response\"} 0\n"
      "basalt_rejections_total{reason=\"draining\"} 0\n"
      "basalt_rejections_total{reason=\"too_many_connections\"} 0\n"
      "basalt_rejections_total{reason=\"client_closed\"} 0\n"
      "# HELP basalt_downstream_connections_active Downstream connections currently open.\n"
      "# TYPE basalt_downstream_connections_active gauge\n"
      "basalt_downstream_connections_active 1\n"
      "# HELP basalt_downstream_connections_total Downstream connections accepted.\n"
      "# TYPE basalt_downstream_connections_total counter\n"
      "basalt_downstream_connections_total 3\n"
      "# HELP basalt_downstream_bytes_received_total Bytes read from downstream connections.\n"
      "# TYPE basalt_downstream_bytes_received_total counter\n"
      "basalt_downstream_bytes_received_total 10\n"
      "# HELP basalt_downstream_bytes_sent_total Bytes written to downstream connections.\n"
      "# TYPE basalt_downstream_bytes_sent_total counter\n"
      "basalt_downstream_bytes_sent_total 20\n"
      "# HELP basalt_upstream_duration_seconds Time from sending a request upstream to the last "
      "byte of its response.\n"
      "# TYPE basalt_upstream_duration_seconds histogram\n";
  expected += histogram_text("basalt_upstream_duration_seconds", "upstream=\"users\"",
                             {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "40");
  expected +=
      "# HELP basalt_upstream_connect_failures_total Failed attempts to connect to an upstream "
      "endpoint.\n"
      "# TYPE basalt_upstream_connect_failures_total counter\n"
      "basalt_upstream_connect_failures_total{upstream=\"users\"} 1\n"
      "# HELP basalt_upstream_ejections_total Times a worker took an endpoint out of rotation "
      "after failed connects.\n"
      "# TYPE basalt_upstream_ejections_total counter\n"
      "basalt_upstream_ejections_total{upstream=\"users\"} 1\n"
      "# HELP basalt_upstream_connections_active Upstream connections currently open, idle or "
      "busy.\n"
      "# TYPE basalt_upstream_connections_active gauge\n"
      "basalt_upstream_connections_active{upstream=\"users\"} 2\n";

  EXPECT_EQ(without_start_time(m.render_prometheus()), expected);
}

TEST(Metrics, ExportsTheProcessStartTime) {
  const std::string text = Metrics(small_config(), 1).render_prometheus();
  const std::string key = "\nbasalt_process_start_time_seconds ";
  const size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos);
  const double start = std::stod(text.substr(at + key.size()));
  EXPECT_DOUBLE_EQ(start, static_cast<double>(process_start_time_us()) / 1e6);
  EXPECT_GT(start, 1.6e9);  // after 2020
}

TEST(Metrics, LabelValuesAreEscaped) {
  config::Config cfg = small_config();
  cfg.routes[0].name = "a\"b\\c\nd";
  cfg.upstreams[0].name = "up\\";
  cfg.routes[0].split[0].upstream = "up\\";
  Metrics m(cfg, 1);
  m.shard(0).route(0).count(target_slot(0), 200);
  const std::string text = m.render_prometheus();
  EXPECT_NE(text.find("basalt_requests_total{route=\"a\\\"b\\\\c\\nd\",upstream=\"up\\\\\","
                      "code=\"200\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("basalt_upstream_connections_active{upstream=\"up\\\\\"} 0\n"),
            std::string::npos);
}

TEST(Metrics, TargetsNamingTheSameUpstreamShareASeries) {
  config::Config cfg = small_config();
  cfg.routes[0].split.push_back(config::WeightedTarget{"users", 3, {}});
  Metrics m(cfg, 1);
  m.shard(0).route(0).count(target_slot(0), 200);
  m.shard(0).route(0).count(target_slot(1), 200);
  const std::string text = m.render_prometheus();
  const std::string series =
      "basalt_requests_total{route=\"users-api\",upstream=\"users\",code=\"200\"} ";
  EXPECT_NE(text.find(series + "2\n"), std::string::npos) << text;
  EXPECT_EQ(text.find(series), text.rfind(series));
}

TEST(Metrics, ScraperReadsWhileAWorkerWrites) {
  Metrics m(small_config(), 1);
  constexpr int kRequests = 20'000;
  std::thread worker([&] {
    WorkerShard& s = m.shard(0);
    for (int i = 0; i < kRequests; ++i) {
      s.route(0).count(target_slot(0), 200);
      s.route(0).duration.observe_us(1'000);
    }
  });
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(m.render_prometheus().empty());
  worker.join();
  EXPECT_EQ(m.shard(0).route(0).cell(target_slot(0), RouteShard::status_cell(200)),
            uint64_t{kRequests});
}

// Runs `promtool check metrics` on the text and returns its exit status and output.
std::pair<int, std::string> promtool_check(const std::string& text) {
  char out_path[] = "/tmp/basalt-promtool-XXXXXX";
  const int out_fd = mkstemp(out_path);
  if (out_fd < 0) return {-1, "mkstemp failed"};
  close(out_fd);

  const std::string cmd = "/usr/bin/promtool check metrics >" + std::string(out_path) + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "w");
  if (!pipe) return {-1, "popen failed"};
  fwrite(text.data(), 1, text.size(), pipe);
  const int status = pclose(pipe);

  std::ifstream in(out_path);
  std::stringstream output;
  output << in.rdbuf();
  unlink(out_path);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output.str()};
}

TEST(Metrics, PromtoolAcceptsTheExposition) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed";

  config::Config cfg = small_config();
  cfg.routes.push_back(config::RouteConfig{});
  cfg.routes.back().name = "we\"ird\\name\n";
  Metrics m(cfg, 2);
  m.shard(0).route(0).count(target_slot(0), 200);
  m.shard(1).route(1).count(kNoUpstreamSlot, 301);
  m.shard(1).route(m.no_route_index()).count(kNoUpstreamSlot, 404);
  m.shard(0).route(0).duration.observe_us(2'000);
  m.shard(1).upstream(0).upstream_duration.observe_us(31'000'000);

  const auto [status, output] = promtool_check(m.render_prometheus());
  EXPECT_EQ(status, 0) << output;
}

}  // namespace
}  // namespace basalt::observe
