#include "observe/metrics.h"

#include <chrono>

#include "observe/json_text.h"

#ifndef BASALT_VERSION
#define BASALT_VERSION "dev"
#endif

namespace basalt::observe {
namespace {

constexpr std::array<std::string_view, static_cast<size_t>(Reject::kCount)> kRejectNames = {
    "bad_request",
    "header_too_large",
    "too_many_headers",
    "body_too_large",
    "unsupported_transfer_coding",
    "header_timeout",
    "read_timeout",
    "no_route",
    "upstream_connect_failed",
    "upstream_timeout",
    "upstream_reset",
    "upstream_bad_response",
    "draining",
    "too_many_connections",
    "client_closed",
};
static_assert(!kRejectNames.back().empty(), "every Reject needs its label value");

// Captured during static initialization: as close to process start as this library can see.
const uint64_t kProcessStartUs =
    static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count());

// Appends name="value" with the value escaped as the exposition format requires: backslash,
// double quote and line feed.
void append_label(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += "=\"";
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  out.push_back('"');
}

std::string label(std::string_view name, std::string_view value) {
  std::string out;
  append_label(out, name, value);
  return out;
}

void append_family(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  out += "# HELP ";
  out += name;
  out.push_back(' ');
  out += help;
  out += "\n# TYPE ";
  out += name;
  out.push_back(' ');
  out += type;
  out.push_back('\n');
}

// Appends `name{labels} ` (or `name ` when labels is empty); the caller appends the value.
void append_series(std::string& out, std::string_view name, std::string_view labels) {
  out += name;
  if (!labels.empty()) {
    out.push_back('{');
    out += labels;
    out.push_back('}');
  }
  out.push_back(' ');
}

void append_uint_sample(std::string& out, std::string_view name, std::string_view labels,
                        uint64_t v) {
  append_series(out, name, labels);
  append_uint(out, v);
  out.push_back('\n');
}

void append_int_sample(std::string& out, std::string_view name, std::string_view labels,
                       int64_t v) {
  append_series(out, name, labels);
  append_int(out, v);
  out.push_back('\n');
}

// One histogram series: cumulative _bucket lines, then _sum in seconds and _count. `labels` is
// the series' own labels (may be empty); `le` is appended after them.
void append_histogram(std::string& out, std::string_view family, std::string_view labels,
                      const Histogram::Totals& t) {
  const std::string bucket = std::string(family) + "_bucket";
  std::string bucket_labels(labels);
  if (!bucket_labels.empty()) bucket_labels.push_back(',');
  const size_t prefix = bucket_labels.size();

  uint64_t cumulative = 0;
  for (size_t i = 0; i < Histogram::kBuckets; ++i) {
    cumulative += t.buckets[i];
    bucket_labels.resize(prefix);
    append_label(bucket_labels, "le", Histogram::kLeText[i]);
    append_uint_sample(out, bucket, bucket_labels, cumulative);
  }

  append_series(out, std::string(family) + "_sum", labels);
  append_seconds(out, t.sum_us);
  out.push_back('\n');
  append_uint_sample(out, std::string(family) + "_count", labels, cumulative);
}

// Worker-level counters, one unlabelled family each.
struct CounterFamily {
  std::string_view name;
  std::string_view help;
  Counter WorkerShard::*field;
};
constexpr CounterFamily kDownstreamCounters[] = {
    {"basalt_downstream_connections_total", "Downstream connections accepted.",
     &WorkerShard::downstream_connections},
    {"basalt_downstream_bytes_received_total", "Bytes read from downstream connections.",
     &WorkerShard::bytes_received},
    {"basalt_downstream_bytes_sent_total", "Bytes written to downstream connections.",
     &WorkerShard::bytes_sent},
};

}  // namespace

std::string_view reject_name(Reject r) {
  const auto i = static_cast<size_t>(r);
  return i < kRejectNames.size() ? kRejectNames[i] : std::string_view{};
}

uint64_t process_start_time_us() { return kProcessStartUs; }

uint64_t Histogram::Totals::count() const {
  uint64_t n = 0;
  for (const uint64_t b : buckets) n += b;
  return n;
}

void Histogram::add_to(Totals& t) const {
  for (size_t i = 0; i < kBuckets; ++i) t.buckets[i] += buckets_[i].value();
  t.sum_us += sum_us_.value();
}

Metrics::Metrics(const config::Config& cfg, size_t workers) {
  // Label text for each route and each of its target slots; targets naming the same upstream
  // share a label so the exposition never repeats a series.
  routes_.reserve(cfg.routes.size() + 1);
  for (const config::RouteConfig& route : cfg.routes) {
    RouteLabels r{label("route", route.name), {label("upstream", "")}, {0}};
    for (const config::WeightedTarget& target : route.split) {
      std::string up = label("upstream", target.upstream);
      const auto it = std::find(r.upstreams.begin(), r.upstreams.end(), up);
      r.slot_to_label.push_back(static_cast<size_t>(it - r.upstreams.begin()));
      if (it == r.upstreams.end()) r.upstreams.push_back(std::move(up));
    }
    routes_.push_back(std::move(r));
  }
  routes_.push_back(RouteLabels{label("route", ""), {label("upstream", "")}, {0}});

  for (const config::UpstreamConfig& up : cfg.upstreams) {
    upstream_labels_.push_back(label("upstream", up.name));
  }

  // Every shard gets the same shape.
  shards_ = std::vector<WorkerShard>(workers);
  for (WorkerShard& s : shards_) size_shard(s);
}

void Metrics::size_shard(WorkerShard& s) const {
  size_t total_slots = 0;
  for (const RouteLabels& r : routes_) total_slots += r.slot_to_label.size();

  s.status_cells_ = decltype(s.status_cells_)(total_slots * RouteShard::kStatusCells);
  s.routes_ = std::vector<RouteShard>(routes_.size());
  s.upstreams_ = std::vector<UpstreamShard>(upstream_labels_.size());

  Counter* next = s.status_cells_.data();
  for (size_t i = 0; i < routes_.size(); ++i) {
    s.routes_[i].cells_ = next;
    s.routes_[i].slots_ = routes_[i].slot_to_label.size();
    next += s.routes_[i].slots_ * RouteShard::kStatusCells;
  }
}

WorkerShard& Metrics::shard(size_t worker) {
  assert(worker < shards_.size());
  return shards_[worker];
}

const WorkerShard& Metrics::shard(size_t worker) const {
  assert(worker < shards_.size());
  return shards_[worker];
}

std::string Metrics::render_prometheus() const {
  std::string out;
  out.reserve(16 * 1024);

  append_family(out, "basalt_build_info", "gauge", "Build information; the value is always 1.");
  append_uint_sample(out, "basalt_build_info", label("version", BASALT_VERSION), 1);
  append_family(out, "basalt_process_start_time_seconds", "gauge",
                "Start time of the process since the Unix epoch, in seconds.");
  append_series(out, "basalt_process_start_time_seconds", "");
  append_seconds(out, process_start_time_us());
  out.push_back('\n');

  render_requests(out);
  render_request_durations(out);
  render_rejections(out);
  render_downstream(out);
  render_upstreams(out);
  return out;
}

void Metrics::render_requests(std::string& out) const {
  static constexpr std::string_view kName = "basalt_requests_total";
  append_family(out, kName, "counter",
                "Responses sent, by route, upstream and status code (0: outside 100-599).");

  std::vector<uint64_t> sums;
  std::string labels;
  for (size_t r = 0; r < routes_.size(); ++r) {
    // Sum the route's cells over workers, merging slots that share an upstream label.
    const RouteLabels& rl = routes_[r];
    sums.assign(rl.upstreams.size() * RouteShard::kStatusCells, 0);
    for (const WorkerShard& s : shards_) {
      const RouteShard& rs = s.route(r);
      for (size_t slot = 0; slot < rs.slots(); ++slot) {
        uint64_t* row = &sums[rl.slot_to_label[slot] * RouteShard::kStatusCells];
        for (size_t c = 0; c < RouteShard::kStatusCells; ++c) row[c] += rs.cell(slot, c);
      }
    }

    // One series per non-zero cell, in upstream label order then code order.
    for (size_t u = 0; u < rl.upstreams.size(); ++u) {
      for (size_t c = 0; c < RouteShard::kStatusCells; ++c) {
        const uint64_t v = sums[u * RouteShard::kStatusCells + c];
        if (v == 0) continue;
        labels = rl.route;
        labels.push_back(',');
        labels += rl.upstreams[u];
        labels.push_back(',');
        append_label(labels, "code", std::to_string(c == 0 ? 0 : c + 99));
        append_uint_sample(out, kName, labels, v);
      }
    }
  }
}

void Metrics::render_request_durations(std::string& out) const {
  static constexpr std::string_view kName = "basalt_request_duration_seconds";
  append_family(out, kName, "histogram",
                "Time from the first byte of a request to the last byte of its response.");
  for (size_t r = 0; r < routes_.size(); ++r) {
    Histogram::Totals t;
    for (const WorkerShard& s : shards_) s.route(r).duration.add_to(t);
    append_histogram(out, kName, routes_[r].route, t);
  }
}

void Metrics::render_rejections(std::string& out) const {
  static constexpr std::string_view kName = "basalt_rejections_total";
  append_family(out, kName, "counter", "Requests refused or failed, by reason.");
  for (size_t i = 0; i < kRejectNames.size(); ++i) {
    uint64_t v = 0;
    for (const WorkerShard& s : shards_) v += s.rejected(static_cast<Reject>(i)).value();
    append_uint_sample(out, kName, label("reason", kRejectNames[i]), v);
  }
}

void Metrics::render_downstream(std::string& out) const {
  static constexpr std::string_view kActive = "basalt_downstream_connections_active";
  append_family(out, kActive, "gauge", "Downstream connections currently open.");
  int64_t active = 0;
  for (const WorkerShard& s : shards_) active += s.active_downstream.value();
  append_int_sample(out, kActive, "", active);

  for (const CounterFamily& f : kDownstreamCounters) {
    append_family(out, f.name, "counter", f.help);
    uint64_t v = 0;
    for (const WorkerShard& s : shards_) v += (s.*f.field).value();
    append_uint_sample(out, f.name, "", v);
  }
}

void Metrics::render_upstreams(std::string& out) const {
  static constexpr std::string_view kDuration = "basalt_upstream_duration_seconds";
  append_family(out, kDuration, "histogram",
                "Time from sending a request upstream to the last byte of its response.");
  for (size_t u = 0; u < upstream_labels_.size(); ++u) {
    Histogram::Totals t;
    for (const WorkerShard& s : shards_) s.upstream(u).upstream_duration.add_to(t);
    append_histogram(out, kDuration, upstream_labels_[u], t);
  }

  static constexpr std::string_view kFailures = "basalt_upstream_connect_failures_total";
  append_family(out, kFailures, "counter", "Failed attempts to connect to an upstream endpoint.");
  for (size_t u = 0; u < upstream_labels_.size(); ++u) {
    uint64_t v = 0;
    for (const WorkerShard& s : shards_) v += s.upstream(u).connect_failures.value();
    append_uint_sample(out, kFailures, upstream_labels_[u], v);
  }

  static constexpr std::string_view kEjections = "basalt_upstream_ejections_total";
  append_family(out, kEjections, "counter",
                "Times a worker took an endpoint out of rotation after failed connects.");
  for (size_t u = 0; u < upstream_labels_.size(); ++u) {
    uint64_t v = 0;
    for (const WorkerShard& s : shards_) v += s.upstream(u).ejections.value();
    append_uint_sample(out, kEjections, upstream_labels_[u], v);
  }

  static constexpr std::string_view kActive = "basalt_upstream_connections_active";
  append_family(out, kActive, "gauge", "Upstream connections currently open, idle or busy.");
  for (size_t u = 0; u < upstream_labels_.size(); ++u) {
    int64_t v = 0;
    for (const WorkerShard& s : shards_) v += s.upstream(u).active_connections.value();
    append_int_sample(out, kActive, upstream_labels_[u], v);
  }
}

}  // namespace basalt::observe
