// RuntimeCollector and ProcessCollector: names, labels, values, and promtool's approval.
#include "loopvisor/metrics.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "loopvisor/blocking_pool.hpp"
#include "loopvisor/supervisor.hpp"
#include "metrics_support.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

std::string scrape(const Supervisor& sup) {
  auto families = RuntimeCollector(sup).Collect();
  auto process = ProcessCollector().Collect();
  families.insert(families.end(), process.begin(), process.end());
  return serialize_metrics(families);
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
  const auto build = text.find("loopvisor_build_info{boost=\"1.81.0\",compiler=\"");
  ASSERT_NE(build, std::string::npos) << text;
  EXPECT_NE(text.find(",version=\"" LOOPVISOR_VERSION "\"} 1\n", build), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE loopvisor_loop_lag_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("loopvisor_loop_busy_seconds_total{loop=\"1\"} "), std::string::npos) << text;
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("process_open_fds "), std::string::npos);
}

TEST(Metrics, PromtoolFindsNothingToComplainAbout) {
  Supervisor sup(SupervisorOptions{.loops = 2});
  EXPECT_EQ(promtool_findings(scrape(sup)), "");
}

// The blocking pool's size, bound and refusals, so its saturation and back-pressure show.
TEST(Metrics, TheBlockingPoolExportsItsThreadsItsBoundAndWhatItRefused) {
  SupervisorOptions o;
  o.loops = 1;
  o.blocking_threads = 1;
  o.blocking_max_pending = 1;
  Supervisor sup(o);
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  auto held = sup.blocking_pool().submit([&] {
    started = true;
    const auto give_up = std::chrono::steady_clock::now() + bound;
    while (!release.load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  EXPECT_THROW((void)sup.blocking_pool().submit([] {}), SubmissionRejected);
  EXPECT_THROW((void)sup.blocking_pool().submit([] {}), SubmissionRejected);
  const auto text = scrape(sup);
  release = true;
  held.get(bound);
  EXPECT_TRUE(has_line(text, "loopvisor_blocking_pool_threads 1")) << text;
  EXPECT_TRUE(has_line(text, "loopvisor_blocking_pool_max_pending 1")) << text;
  EXPECT_TRUE(has_line(text, "loopvisor_blocking_pool_busy_threads 1")) << text;
  EXPECT_TRUE(has_line(text, "loopvisor_blocking_pool_rejected_total 2")) << text;
  EXPECT_EQ(promtool_findings(text), "");
}

// How long slow callbacks held their loop, not only how many there were: a histogram of the
// steps over the threshold, per loop, with buckets up to a minute.
TEST(Metrics, SlowCallbacksAreAHistogramOfHowLongTheyHeldTheLoop) {
  using namespace std::chrono_literals;
  // Threshold 20 ms: no observation can be 20 ms or less, whatever else the loops ran.
  Supervisor sup(SupervisorOptions{.loops = 2, .slow_callback_threshold = 20ms});
  sup.loop(1).submit([] { std::this_thread::sleep_for(30ms); }).get(bound);
  ASSERT_TRUE(eventually([&] { return sup.loop(1).stats().slow_callbacks >= 1; }));
  const auto text = scrape(sup);
  EXPECT_NE(text.find("# TYPE loopvisor_loop_slow_callback_duration_seconds histogram"), std::string::npos);
  const std::string name = "loopvisor_loop_slow_callback_duration_seconds";
  const auto value = [&](const std::string& series) {
    const auto line = line_starting(text, series + " ");
    return line.empty() ? -1.0 : std::stod(line.substr(line.rfind(' ') + 1));
  };
  const double count = value(name + "_count{loop=\"1\"}");
  EXPECT_GE(count, 1) << text;
  EXPECT_EQ(value(name + "_bucket{loop=\"1\",le=\"+Inf\"}"), count) << text;
  EXPECT_EQ(value(name + "_bucket{loop=\"1\",le=\"60\"}"), count) << text;
  EXPECT_EQ(value(name + "_bucket{loop=\"1\",le=\"0.01\"}"), 0) << text;
  // Each observation is over the threshold (the loop's clock is coarse: the 30 ms sleep may
  // read a few ms short).
  EXPECT_GT(value(name + "_sum{loop=\"1\"}"), 0.02 * count) << text;
  EXPECT_GE(value(name + "_count{loop=\"0\"}"), 0) << "loop 0's series exist: " << text;
  EXPECT_EQ(promtool_findings(text), "");
}

// So the check above can fail.
TEST(Metrics, PromtoolRejectsWhatItShould) {
  EXPECT_NE(promtool_findings("# TYPE x counter\nx 1\n"), "");  // a counter without _total
}

TEST(RuntimeCollector, CollectAfterItsSupervisorIsGoneReturnsBuildInfoOnly) {
  std::shared_ptr<RuntimeCollector> collector;
  {
    Supervisor sup(SupervisorOptions{.loops = 1});
    collector = std::make_shared<RuntimeCollector>(sup);
    EXPECT_GT(collector->Collect().size(), 1u);
  }
  const auto families = collector->Collect();  // used to read the destroyed Supervisor
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "loopvisor_build_info");
}

}  // namespace
}  // namespace loopvisor::test
