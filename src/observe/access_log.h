// The JSON access log: one line per request, written off the request path.
//
// Each worker formats lines into its own buffer (no lock, no allocation once the buffer has
// grown) and hands whole buffers to a writer thread, which does the blocking write(2)s. A
// buffer is handed over when it passes 64 KiB and whenever the worker calls flush() (the
// gateway does so from a ~100 ms timer and at exit), so a line reaches the file within about
// 100 ms. If the writer falls more than 64 MiB behind (a stalled disk or pipe), whole batches
// are dropped and counted rather than letting memory grow or stalling workers.
//
//   std::string err;
//   auto log = observe::AccessLog::open(cfg.access_log.path, workers, &err);
//   if (!log) return fail(err);
//   log->write(worker, record);   // on worker `worker`'s thread, once per request
//   log->flush(worker);           // on the same thread, from its periodic timer and at exit
//   log->stop();                  // main thread, after the workers have flushed
//
// Line format (keys in this order):
//   {"time":"2026-12-03T19:47:12.123Z","request_id":"..","client":"127.0.0.1:5555",
//    "method":"GET","path":"/users/1","route":"users-api","upstream":"users",
//    "endpoint":"127.0.0.1:9001","status":200,"bytes_in":0,"bytes_out":123,
//    "duration_ms":1.234,"upstream_ms":1.101,"reason":""}
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "observe/time_text.h"

namespace basalt::observe {

// One finished request. The views need only stay valid during AccessLog::write().
struct AccessRecord {
  std::chrono::system_clock::time_point time;  // when the request started
  std::string_view request_id, client, method, path, route, upstream, endpoint, reason;
  int status = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  uint64_t duration_us = 0;
  int64_t upstream_us = -1;  // -1: no upstream involved (written as null)
};

// Appends `r` as one JSON line, '\n' included, to `out`. `clock_text` caches the formatted
// second; use one per thread. Allocates only if `out` lacks capacity.
void append_access_line(std::string& out, const AccessRecord& r, UtcTimeText& clock_text);

class AccessLog {
 public:
  static constexpr size_t kHandOverBytes = 64 * 1024;           // a worker buffer is handed over
  static constexpr size_t kMaxPendingBytes = 64 * 1024 * 1024;  // beyond this, batches drop

  // path: "stdout" | "stderr" | "off" | a file (opened for append, created 0644). Starts the
  // writer thread (none for "off", where write() does nothing). On failure returns null and sets
  // *err to a message naming the path and the system error.
  static std::unique_ptr<AccessLog> open(const std::string& path, size_t workers, std::string* err);

  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // False for "off"; lets the caller skip building a record at all.
  bool enabled() const { return fd_ >= 0; }

  // Worker `w`'s thread only: formats one line into that worker's buffer and hands the buffer
  // over once it passes kHandOverBytes.
  void write(size_t w, const AccessRecord& r);

  // Worker `w`'s thread only: hands the buffer (if not empty) to the writer thread. Takes a
  // mutex once per batch. After stop(), writes the batch directly instead.
  void flush(size_t w);

  // Writes everything already handed over, then stops the writer thread. Lines still in worker
  // buffers are not seen: workers flush() first. Idempotent; the destructor calls it.
  void stop();

  // Batches (and the lines in them) discarded because the writer was too far behind.
  uint64_t dropped() const { return dropped_batches_.load(std::memory_order_relaxed); }
  uint64_t dropped_lines() const { return dropped_lines_.load(std::memory_order_relaxed); }

  // Appends basalt_access_log_dropped_lines_total in the Prometheus text format; `log` may be
  // null (the access log is off), and the series is still exported, at 0, for alerts.
  static void append_prometheus(std::string& out, const AccessLog* log);

 private:
  // A worker's buffer and formatting state, on its own cache lines.
  struct alignas(64) WorkerBuffer {
    std::string text;
    size_t lines = 0;
    UtcTimeText clock_text;
  };
  struct Batch {
    std::string text;
    size_t lines = 0;
  };

  AccessLog(int fd, bool owns_fd, size_t workers);
  void hand_over(WorkerBuffer& b);
  void run_writer();
  void write_batches(const std::vector<Batch>& batches);
  bool write_all(std::string_view text);
  void count_dropped(size_t lines);
  std::string take_spare_locked();
  void recycle_locked(std::vector<Batch>& written);

  const int fd_;
  const bool owns_fd_;
  std::vector<WorkerBuffer> buffers_;

  std::mutex mu_;  // guards everything below it
  std::condition_variable wake_;
  // Handed over, not yet written. The writer swaps this vector with its own, so both keep
  // their capacity and handing over does not allocate in steady state.
  std::vector<Batch> pending_;
  size_t pending_bytes_ = 0;  // handed over and not yet written, including the writer's batches
  std::vector<std::string> spares_;  // written buffers, kept for their capacity
  bool stopping_ = false;            // stop() was called
  bool stopped_ = false;             // the writer has exited; flush() writes directly
  std::thread writer_;

  std::atomic<uint64_t> dropped_batches_{0};
  std::atomic<uint64_t> dropped_lines_{0};
};

}  // namespace basalt::observe
