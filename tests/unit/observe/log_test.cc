#include "observe/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace basalt::observe::log {
namespace {

using namespace std::chrono;

system_clock::time_point g_now;
system_clock::time_point fake_now() { return g_now; }

// Points the log at a fresh file with a fake clock; puts stderr and the real clock back after.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "basalt-log-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    path_ = dir_ + "/app.log";
    g_now = sys_days{2026y / 12 / 3} + 19h + 47min + 12s + 123ms;
    set_clock_for_test(&fake_now);
    std::string err;
    ASSERT_TRUE(init(Level::info, path_, &err)) << err;
  }
  void TearDown() override {
    init(Level::info, "stderr");
    set_clock_for_test(nullptr);
    std::filesystem::remove_all(dir_);
  }

  std::vector<std::string> lines() const {
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  std::string dir_, path_;
};

TEST_F(LogTest, LineHasTimeLevelComponentMsgThenFields) {
  info("gateway", "listening", {{"listener", "public"}, {"address", "127.0.0.1:8080"}});
  const auto l = lines();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0], R"({"time":"2026-12-03T19:47:12.123Z","level":"info","component":"gateway",)"
                  R"("msg":"listening","listener":"public","address":"127.0.0.1:8080"})");
}

TEST_F(LogTest, FieldValuesKeepTheirJsonTypes) {
  const std::string owned = "owned";
  const size_t routes = 12;
  warn("config", "reloaded",
       {{"routes", routes},
        {"neg", -3},
        {"ratio", 0.25},
        {"ok", true},
        {"name", owned},
        {"huge", UINT64_MAX},
        {"q\"uote", "a\nb\xff"}});
  const auto l = lines();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_NE(l[0].find(R"("routes":12,"neg":-3,"ratio":0.25,"ok":true,"name":"owned",)"
                      R"("huge":9223372036854775807,"q\"uote":"a\nb\u00ff"})"),
            std::string::npos)
      << l[0];
  const auto j = nlohmann::json::parse(l[0]);
  EXPECT_EQ(j["level"], "warn");
}

TEST_F(LogTest, LevelsBelowTheMinimumAreSkipped) {
  EXPECT_FALSE(enabled(Level::debug));
  EXPECT_TRUE(enabled(Level::info));
  debug("router", "table built");
  error("gateway", "bind failed", {{"errno", 98}});
  ASSERT_TRUE(init(Level::debug, path_));
  EXPECT_TRUE(enabled(Level::debug));
  debug("router", "table built");
  const auto l = lines();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(l[0])["level"], "error");
  EXPECT_EQ(nlohmann::json::parse(l[1])["level"], "debug");
}

TEST_F(LogTest, RepeatedWarningsAreLimitedPerSecondThenSummarized) {
  for (int i = 0; i < 15; ++i) warn("upstream", "connect failed", {{"attempt", i}});
  for (int i = 0; i < 12; ++i) error("upstream", "other failure");  // a separate key
  for (int i = 0; i < 12; ++i) info("upstream", "connect failed");  // info is not limited
  EXPECT_EQ(lines().size(), 10u + 10u + 12u);

  // The next second: one summary per suppressed key, then the line itself.
  g_now += 1s;
  warn("upstream", "connect failed", {{"attempt", 15}});
  const auto l = lines();
  ASSERT_EQ(l.size(), 32u + 3u);
  std::vector<nlohmann::json> tail;
  for (size_t i = 32; i < l.size(); ++i) tail.push_back(nlohmann::json::parse(l[i]));
  std::sort(tail.begin(), tail.begin() + 2,
            [](const auto& a, const auto& b) { return a["repeated_msg"] < b["repeated_msg"]; });
  EXPECT_EQ(tail[0]["msg"], "suppressed 5");
  EXPECT_EQ(tail[0]["suppressed"], 5);
  EXPECT_EQ(tail[0]["repeated_msg"], "connect failed");
  EXPECT_EQ(tail[0]["component"], "upstream");
  EXPECT_EQ(tail[0]["level"], "warn");
  EXPECT_EQ(tail[0]["time"], "2026-12-03T19:47:13.123Z");
  EXPECT_EQ(tail[1]["msg"], "suppressed 2");
  EXPECT_EQ(tail[1]["level"], "error");
  EXPECT_EQ(tail[2]["msg"], "connect failed");
  EXPECT_EQ(tail[2]["attempt"], 15);
}

TEST_F(LogTest, AQuietSecondReportsNothing) {
  for (int i = 0; i < 10; ++i) warn("upstream", "connect failed");
  g_now += 1s;
  report_suppressed();
  for (int i = 0; i < 10; ++i) warn("upstream", "connect failed");
  EXPECT_EQ(lines().size(), 20u);
}

TEST_F(LogTest, ReportSuppressedWritesTheSummaryWithoutANewLine) {
  for (int i = 0; i < 11; ++i) warn("health", "endpoint down");
  report_suppressed();  // same second: nothing to report yet
  EXPECT_EQ(lines().size(), 10u);
  g_now += 2s;
  report_suppressed();
  const auto l = lines();
  ASSERT_EQ(l.size(), 11u);
  EXPECT_EQ(nlohmann::json::parse(l[10])["msg"], "suppressed 1");
}

TEST_F(LogTest, LinesFromManyThreadsDoNotInterleave) {
  constexpr int kPerThread = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      const std::string padding(2000, static_cast<char>('a' + t));
      for (int i = 0; i < kPerThread; ++i) info("t", "line", {{"thread", t}, {"pad", padding}});
    });
  }
  for (auto& t : threads) t.join();
  const auto l = lines();
  ASSERT_EQ(l.size(), 4u * kPerThread);
  for (const auto& line : l) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["pad"], std::string(2000, static_cast<char>('a' + j["thread"].get<int>())));
  }
}

TEST_F(LogTest, InitFailureKeepsTheCurrentDestination) {
  std::string err;
  EXPECT_FALSE(init(Level::info, dir_ + "/missing/app.log", &err));
  EXPECT_NE(err.find("missing/app.log"), std::string::npos) << err;
  info("gateway", "still here");
  EXPECT_EQ(lines().size(), 1u);
}

TEST(LogConfig, LevelsMapFromTheConfigModel) {
  EXPECT_EQ(from_config(config::LogLevel::debug), Level::debug);
  EXPECT_EQ(from_config(config::LogLevel::info), Level::info);
  EXPECT_EQ(from_config(config::LogLevel::warn), Level::warn);
  EXPECT_EQ(from_config(config::LogLevel::error), Level::error);
  EXPECT_EQ(level_name(Level::warn), "warn");
}

}  // namespace
}  // namespace basalt::observe::log
