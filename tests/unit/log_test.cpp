// The runtime's log sink: quiet below warn by default, never spdlog's default logger unasked,
// a callback or an spdlog logger of the embedder's choosing.
#include "loopvisor/log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loopvisor/spdlog_sink.hpp"
#include "loopvisor/supervisor.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

/// Collects what a callback sink receives; restores the default sink when the test ends.
class Captured {
 public:
  explicit Captured(LogLevel level) {
    set_log_sink(
        [this](LogLevel lvl, std::string_view message) {
          std::lock_guard g(mu_);
          lines_.push_back(std::string(to_string(lvl)) + " " + std::string(message));
        },
        level);
  }
  ~Captured() { set_log_sink({}, LogLevel::warn); }
  std::vector<std::string> lines() {
    std::lock_guard g(mu_);
    return lines_;
  }
  bool has(const std::string& needle) {
    for (const auto& l : lines())
      if (l.find(needle) != std::string::npos) return true;
    return false;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

/// Makes a slow callback (25 ms, above the 1 ms threshold even on a coarse 10 ms clock): the runtime logs a
/// warning.
void provoke_slow_callback(Supervisor& sup) {
  sup.loop(0).submit([] { std::this_thread::sleep_for(25ms); }).get(bound);
}

TEST(Log, TheDefaultIsWarnAndSpdlogsDefaultLoggerHearsNothing) {
  EXPECT_EQ(log_level(), LogLevel::warn);
  std::ostringstream heard;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      std::make_shared<spdlog::logger>("probe", std::make_shared<spdlog::sinks::ostream_sink_mt>(heard)));
  spdlog::set_level(spdlog::level::trace);
  {
    Supervisor sup(SupervisorOptions{.loops = 1, .slow_callback_threshold = 1ms});
    provoke_slow_callback(sup);
    // Counted just after the callback returns, which may be after get() returned.
    EXPECT_TRUE(eventually([&] { return sup.loop(0).stats().slow_callbacks >= 1; }));
  }
  spdlog::set_default_logger(previous);
  EXPECT_EQ(heard.str(), "") << "the runtime wrote to spdlog's default logger";
}

TEST(Log, ACallbackSinkGetsLinesAtItsLevelAndAboveOnly) {
  {
    Captured info(LogLevel::info);
    Supervisor sup(SupervisorOptions{.loops = 1, .slow_callback_threshold = 1ms});
    provoke_slow_callback(sup);
    sup.shutdown(1s);
    EXPECT_TRUE(info.has("info supervisor: 1 loop(s) running")) << ::testing::PrintToString(info.lines());
    EXPECT_TRUE(info.has("warn lv-loop-0:")) << ::testing::PrintToString(info.lines());
  }
  {
    Captured warn(LogLevel::warn);
    Supervisor sup(SupervisorOptions{.loops = 1, .slow_callback_threshold = 1ms});
    provoke_slow_callback(sup);
    sup.shutdown(1s);
    for (const auto& line : warn.lines()) EXPECT_EQ(line.rfind("info ", 0), std::string::npos) << line;
    EXPECT_TRUE(warn.has("warn lv-loop-0:")) << ::testing::PrintToString(warn.lines());
  }
}

TEST(Log, ASinkThatThrowsIsDroppedAndTheRuntimeGoesOn) {
  set_log_sink([](LogLevel, std::string_view) { throw std::runtime_error("sink broke"); }, LogLevel::trace);
  {
    Supervisor sup(SupervisorOptions{.loops = 1, .slow_callback_threshold = 1ms});
    provoke_slow_callback(sup);
    EXPECT_EQ(sup.submit([] { return 3; }).get(bound), 3);
  }
  set_log_sink({}, LogLevel::warn);
}

TEST(Log, SpdlogSinkWritesToTheLoggerGivenAtItsLevel) {
  std::ostringstream out;
  auto logger =
      std::make_shared<spdlog::logger>("mine", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->set_level(spdlog::level::trace);
  logger->set_pattern("%l %v");
  set_log_sink(spdlog_sink(logger), log_level_of(spdlog::level::warn));
  {
    Supervisor sup(SupervisorOptions{.loops = 1, .slow_callback_threshold = 1ms});
    provoke_slow_callback(sup);
  }
  set_log_sink({}, LogLevel::warn);
  const std::string text = out.str();
  EXPECT_NE(text.find("warning lv-loop-0:"), std::string::npos) << text;
  EXPECT_EQ(text.find("info "), std::string::npos) << "below the level given: " << text;
}

TEST(Log, LevelsHaveNamesAndOffSilencesEverything) {
  EXPECT_STREQ(to_string(LogLevel::error), "error");
  EXPECT_STREQ(to_string(LogLevel::critical), "critical");
  Captured none(LogLevel::off);
  {
    Supervisor sup(SupervisorOptions{.loops = 1, .slow_callback_threshold = 1ms});
    provoke_slow_callback(sup);
  }
  EXPECT_TRUE(none.lines().empty()) << ::testing::PrintToString(none.lines());
}

}  // namespace
}  // namespace loopvisor::test
