#include "observe/access_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace basalt::observe {
namespace {

using namespace std::chrono;

// A fresh directory for one test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "basalt-observe-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

AccessRecord sample_record() {
  AccessRecord r;
  r.time = sys_days{2026y / 12 / 3} + 19h + 47min + 12s + 123ms + 456us;
  r.request_id = "req-1";
  r.client = "127.0.0.1:5555";
  r.method = "GET";
  r.path = "/users/1";
  r.route = "users-api";
  r.upstream = "users";
  r.endpoint = "127.0.0.1:9001";
  r.status = 200;
  r.bytes_in = 0;
  r.bytes_out = 123;
  r.duration_us = 1234;
  r.upstream_us = 1101;
  return r;
}

TEST(AccessLine, HasEveryKeyInOrder) {
  std::string out;
  UtcTimeText clock_text;
  append_access_line(out, sample_record(), clock_text);
  EXPECT_EQ(out,
            R"({"time":"2026-12-03T19:47:12.123Z","request_id":"req-1","client":"127.0.0.1:5555",)"
            R"("method":"GET","path":"/users/1","route":"users-api","upstream":"users",)"
            R"("endpoint":"127.0.0.1:9001","status":200,"bytes_in":0,"bytes_out":123,)"
            R"("duration_ms":1.234,"upstream_ms":1.101,"reason":""})"
            "\n");
}

TEST(AccessLine, UpstreamTimeIsNullWithoutAnUpstream) {
  AccessRecord r = sample_record();
  r.upstream_us = -1;
  r.upstream = "";
  r.endpoint = "";
  r.status = 404;
  r.reason = "no_route";
  std::string out;
  UtcTimeText clock_text;
  append_access_line(out, r, clock_text);
  const auto j = nlohmann::json::parse(out);
  EXPECT_TRUE(j["upstream_ms"].is_null());
  EXPECT_EQ(j["reason"], "no_route");
  EXPECT_NE(out.find(R"("upstream_ms":null,)"), std::string::npos);
}

TEST(AccessLine, NastyStringsStayOneValidJsonLine) {
  const std::string path = std::string("/a\"b\\c\r\n{\"x\":1}\t\x01\xff\xc0\xaf") + "\xe2\x82" +
                           std::string(1, '\0') + "\xc3\xa9";
  AccessRecord r = sample_record();
  r.path = path;
  r.method = "G\"ET";
  r.request_id = "\xed\xa0\x80";
  r.client = "\n";
  std::string out;
  UtcTimeText clock_text;
  append_access_line(out, r, clock_text);

  ASSERT_EQ(out.find('\n'), out.size() - 1);
  const auto j = nlohmann::json::parse(out);
  // Invalid bytes come back as the code points U+0080..U+00FF, in UTF-8.
  EXPECT_EQ(j["path"], std::string("/a\"b\\c\r\n{\"x\":1}\t\x01\xc3\xbf\xc3\x80\xc2\xaf") +
                           "\xc3\xa2\xc2\x82" + std::string(1, '\0') + "\xc3\xa9");
  EXPECT_EQ(j["method"], "G\"ET");
  EXPECT_EQ(j["request_id"], "\xc3\xad\xc2\xa0\xc2\x80");
  EXPECT_EQ(j["client"], "\n");
  EXPECT_EQ(j.size(), 14u);
}

TEST(AccessLine, TimeIsUtcWithMilliseconds) {
  AccessRecord r = sample_record();
  UtcTimeText clock_text;
  std::string out;
  r.time = sys_days{2027y / 1 / 1} + 5ms;
  append_access_line(out, r, clock_text);
  r.time = sys_days{2027y / 1 / 1} + 1s + 999ms;
  append_access_line(out, r, clock_text);
  EXPECT_EQ(out.find(R"({"time":"2027-01-01T00:00:00.005Z",)"), 0u);
  EXPECT_NE(out.find("\n{\"time\":\"2027-01-01T00:00:01.999Z\","), std::string::npos);
}

TEST(AccessLog, LinesFromTwoWorkersArriveComplete) {
  TempDir dir;
  std::string err;
  auto log = AccessLog::open(dir.file("access.log"), 2, &err);
  ASSERT_TRUE(log) << err;
  ASSERT_TRUE(log->enabled());

  // Enough lines that each worker hands over several full buffers as well as timed flushes.
  constexpr int kLines = 3000;
  auto worker = [&](size_t w) {
    const std::string path(300, static_cast<char>('a' + w));
    for (int i = 0; i < kLines; ++i) {
      const std::string id = std::to_string(w) + "-" + std::to_string(i);
      AccessRecord r = sample_record();
      r.request_id = id;
      r.path = path;
      log->write(w, r);
      if (i % 500 == 0) log->flush(w);
    }
    log->flush(w);
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  log->stop();
  log->stop();  // idempotent
  EXPECT_EQ(log->dropped(), 0u);

  // Every line parses, and each worker's lines arrive all, in order.
  std::vector<int> next(2, 0);
  const auto lines = read_lines(dir.file("access.log"));
  ASSERT_EQ(lines.size(), 2u * kLines);
  for (const std::string& line : lines) {
    const auto j = nlohmann::json::parse(line);
    const std::string id = j["request_id"];
    const size_t w = id[0] - '0';
    ASSERT_LT(w, 2u);
    EXPECT_EQ(id, std::to_string(w) + "-" + std::to_string(next[w]));
    EXPECT_EQ(j["path"], std::string(300, static_cast<char>('a' + w)));
    ++next[w];
  }
  EXPECT_EQ(next[0], kLines);
  EXPECT_EQ(next[1], kLines);
}

TEST(AccessLog, AppendsToAnExistingFile) {
  TempDir dir;
  { std::ofstream(dir.file("access.log")) << "earlier\n"; }
  std::string err;
  auto log = AccessLog::open(dir.file("access.log"), 1, &err);
  ASSERT_TRUE(log) << err;
  log->write(0, sample_record());
  log->flush(0);
  log.reset();
  const auto lines = read_lines(dir.file("access.log"));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "earlier");
}

TEST(AccessLog, FlushAfterStopWritesDirectly) {
  TempDir dir;
  std::string err;
  auto log = AccessLog::open(dir.file("access.log"), 1, &err);
  ASSERT_TRUE(log) << err;
  log->stop();
  log->write(0, sample_record());
  log->flush(0);
  EXPECT_EQ(read_lines(dir.file("access.log")).size(), 1u);
}

TEST(AccessLog, OffWritesNothing) {
  std::string err;
  auto log = AccessLog::open("off", 2, &err);
  ASSERT_TRUE(log);
  EXPECT_FALSE(log->enabled());
  log->write(1, sample_record());
  log->flush(1);
  log->stop();
}

TEST(AccessLog, OpenFailureNamesThePath) {
  std::string err;
  auto log = AccessLog::open("/nonexistent-dir/access.log", 1, &err);
  EXPECT_FALSE(log);
  EXPECT_NE(err.find("/nonexistent-dir/access.log"), std::string::npos) << err;
  EXPECT_NE(err.find("No such file"), std::string::npos) << err;
}

TEST(AccessLog, DropsWholeBatchesWhenTheWriterFallsBehind) {
  // The writer blocks on a pipe nobody reads, so handed-over buffers pile up until the limit.
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  std::string err;
  auto log = AccessLog::open("/dev/fd/" + std::to_string(fds[1]), 1, &err);
  ASSERT_TRUE(log) << err;

  const std::string path(1000, 'p');
  AccessRecord r = sample_record();
  r.path = path;
  uint64_t written = 0;
  const uint64_t cap = 2 * AccessLog::kMaxPendingBytes / path.size();
  while (log->dropped() == 0 && written < cap) {
    log->write(0, r);
    ++written;
  }
  EXPECT_GT(log->dropped(), 0u);
  log->flush(0);

  // Drain the pipe; every line either arrived whole or was counted as dropped.
  uint64_t received = 0;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) {
      for (ssize_t i = 0; i < n; ++i) received += buf[i] == '\n';
    }
  });
  log->stop();
  const uint64_t dropped_lines = log->dropped_lines();
  log.reset();  // closes its descriptor for the pipe
  close(fds[1]);
  reader.join();
  close(fds[0]);
  EXPECT_EQ(received + dropped_lines, written);
}

}  // namespace
}  // namespace basalt::observe
