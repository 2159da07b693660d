// RuntimeCollector and ProcessCollector: names, labels, values, and promtool's approval.
#include "loopvisor/metrics.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "loopvisor/supervisor.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

std::string scrape(const Supervisor& sup) {
  auto families = RuntimeCollector(sup).Collect();
  auto process = ProcessCollector().Collect();
  families.insert(families.end(), process.begin(), process.end());
  return serialize_metrics(families);
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, PerLoopCountersCarryTheLoopLabelAndCountWhatHappened) {
  SupervisorOptions o;
  o.loops = 2;
  o.submit_queue_capacity = 2;
  Supervisor sup(o);
  for (int i = 0; i < 3; ++i) (void)sup.loop(1).submit([] {}).get(bound);
  auto ok = sup.loop(1).run_coroutine_threadsafe([]() -> asio::awaitable<int> { co_return 1; }());
  (void)ok.get(bound);
  ASSERT_TRUE(eventually([&] { return sup.loop(1).stats().callbacks_run >= 4; }));
  const auto text = scrape(sup);
  EXPECT_TRUE(has_line(text, "loopvisor_loop_callbacks_total{loop=\"0\"} 1"))
      << text;  // the supervisor's start-up probe
  EXPECT_TRUE(has_line(text, "loopvisor_loop_tasks_finished_total{loop=\"1\",outcome=\"ok\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "loopvisor_loop_stalled{loop=\"1\"} 0")) << text;
  EXPECT_TRUE(has_line(text, "loopvisor_build_info{version=\"" LOOPVISOR_VERSION "\"} 1")) << text;
  EXPECT_NE(text.find("# TYPE loopvisor_loop_lag_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("loopvisor_loop_busy_seconds_total{loop=\"1\"} "), std::string::npos) << text;
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("process_open_fds "), std::string::npos);
}

TEST(Metrics, PromtoolFindsNothingToComplainAbout) {
  Supervisor sup(SupervisorOptions{.loops = 2});
  const auto text = scrape(sup);
  const std::string path = ::testing::TempDir() + "/loopvisor_metrics.txt";
  std::ofstream(path) << text;
  const std::string command = "promtool check metrics < " + path + " > " + path + ".out 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream report(path + ".out");
  const std::string complaints((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rc, 0) << complaints;
  EXPECT_EQ(complaints, "") << complaints;
}

}  // namespace
}  // namespace loopvisor::test
