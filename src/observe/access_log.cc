#include "observe/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <string>
#include <system_error>

#include "observe/json_text.h"

namespace basalt::observe {
namespace {

// Fresh buffers leave room past the hand-over mark for the line that crosses it.
constexpr size_t kBufferReserve = AccessLog::kHandOverBytes + 16 * 1024;

// The string fields after "time", each written as ,"key":"value".
struct TextField {
  std::string_view key;  // with its leading comma and trailing colon
  std::string_view AccessRecord::*field;
};
constexpr TextField kTextFields[] = {
    {",\"request_id\":", &AccessRecord::request_id}, {",\"client\":", &AccessRecord::client},
    {",\"method\":", &AccessRecord::method},         {",\"path\":", &AccessRecord::path},
    {",\"route\":", &AccessRecord::route},           {",\"upstream\":", &AccessRecord::upstream},
    {",\"endpoint\":", &AccessRecord::endpoint},
};

// Opens the destination: the process's stdout or stderr (borrowed), or a file for append.
// Returns the fd, or -1 with *err set.
int open_destination(const std::string& path, bool* owns, std::string* err) {
  *owns = false;
  if (path == "stdout") return STDOUT_FILENO;
  if (path == "stderr") return STDERR_FILENO;

  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (err) *err = "access log \"" + path + "\": " + std::generic_category().message(errno);
    return -1;
  }
  *owns = true;
  return fd;
}

}  // namespace

void append_access_line(std::string& out, const AccessRecord& r, UtcTimeText& clock_text) {
  out += "{\"time\":\"";
  clock_text.append(out, r.time);
  out.push_back('"');
  for (const TextField& f : kTextFields) {
    out += f.key;
    append_json_string(out, r.*f.field);
  }
  out += ",\"status\":";
  append_int(out, r.status);
  out += ",\"bytes_in\":";
  append_uint(out, r.bytes_in);
  out += ",\"bytes_out\":";
  append_uint(out, r.bytes_out);
  out += ",\"duration_ms\":";
  append_millis(out, r.duration_us);
  out += ",\"upstream_ms\":";
  if (r.upstream_us < 0) {
    out += "null";
  } else {
    append_millis(out, static_cast<uint64_t>(r.upstream_us));
  }
  out += ",\"reason\":";
  append_json_string(out, r.reason);
  out += "}\n";
}

std::unique_ptr<AccessLog> AccessLog::open(const std::string& path, size_t workers,
                                           std::string* err) {
  if (path == "off") return std::unique_ptr<AccessLog>(new AccessLog(-1, false, workers));
  bool owns = false;
  const int fd = open_destination(path, &owns, err);
  if (fd < 0) return nullptr;
  return std::unique_ptr<AccessLog>(new AccessLog(fd, owns, workers));
}

AccessLog::AccessLog(int fd, bool owns_fd, size_t workers)
    : fd_(fd), owns_fd_(owns_fd), buffers_(workers) {
  if (fd_ < 0) {
    stopping_ = stopped_ = true;
    return;
  }
  for (WorkerBuffer& b : buffers_) b.text.reserve(kBufferReserve);
  writer_ = std::thread([this] { run_writer(); });
}

AccessLog::~AccessLog() {
  stop();
  if (owns_fd_) ::close(fd_);
}

void AccessLog::write(size_t w, const AccessRecord& r) {
  if (fd_ < 0) return;
  assert(w < buffers_.size());
  WorkerBuffer& b = buffers_[w];
  append_access_line(b.text, r, b.clock_text);
  ++b.lines;
  if (b.text.size() >= kHandOverBytes) hand_over(b);
}

void AccessLog::flush(size_t w) {
  if (fd_ < 0) return;
  assert(w < buffers_.size());
  WorkerBuffer& b = buffers_[w];
  if (!b.text.empty()) hand_over(b);
}

void AccessLog::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

// Moves the worker's buffer to the pending queue and gives the worker a spare one, or drops
// the batch when the writer is too far behind. After the writer has exited, writes the batch
// here instead (worker threads flushing at exit after stop()).
void AccessLog::hand_over(WorkerBuffer& b) {
  std::unique_lock lock(mu_);
  if (stopped_) {
    if (!write_all(b.text)) count_dropped(b.lines);
  } else if (pending_bytes_ + b.text.size() > kMaxPendingBytes) {
    count_dropped(b.lines);
  } else {
    pending_bytes_ += b.text.size();
    pending_.push_back(Batch{std::move(b.text), b.lines});
    b.text = take_spare_locked();
    b.lines = 0;
    lock.unlock();
    wake_.notify_one();
    return;
  }
  b.text.clear();
  b.lines = 0;
}

std::string AccessLog::take_spare_locked() {
  if (spares_.empty()) {
    std::string fresh;
    fresh.reserve(kBufferReserve);
    return fresh;
  }
  std::string s = std::move(spares_.back());
  spares_.pop_back();
  return s;
}

// Keeps written buffers for reuse, enough for every worker to swap twice; frees the rest.
void AccessLog::recycle_locked(std::vector<Batch>& written) {
  const size_t keep = 2 * buffers_.size() + 2;
  for (Batch& b : written) {
    pending_bytes_ -= b.text.size();
    if (spares_.size() < keep) {
      b.text.clear();
      spares_.push_back(std::move(b.text));
    }
  }
  written.clear();
}

void AccessLog::run_writer() {
  std::vector<Batch> inflight;
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) break;  // stopping, and everything handed over is written

    // Write outside the lock so workers handing over never wait on the disk.
    inflight.swap(pending_);
    lock.unlock();
    write_batches(inflight);
    lock.lock();
    recycle_locked(inflight);
  }
  stopped_ = true;
}

void AccessLog::write_batches(const std::vector<Batch>& batches) {
  for (const Batch& b : batches) {
    if (!write_all(b.text)) count_dropped(b.lines);
  }
}

// Writes all of `text`, retrying short writes and EINTR. False on any other error; the caller
// counts the batch as dropped (there is nowhere better to report an access log failure).
bool AccessLog::write_all(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd_, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void AccessLog::count_dropped(size_t lines) {
  dropped_batches_.fetch_add(1, std::memory_order_relaxed);
  dropped_lines_.fetch_add(lines, std::memory_order_relaxed);
}

void AccessLog::append_prometheus(std::string& out, const AccessLog* log) {
  out.append(
      "# HELP basalt_access_log_dropped_lines_total Access log lines discarded because the "
      "writer fell too far behind.\n"
      "# TYPE basalt_access_log_dropped_lines_total counter\n"
      "basalt_access_log_dropped_lines_total ");
  out.append(std::to_string(log ? log->dropped_lines() : 0));
  out.push_back('\n');
}

}  // namespace basalt::observe
