// RuntimeCollector and ProcessCollector: names, labels, values, and promtool's approval.
#include "loopvisor/metrics.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "loopvisor/metrics_binding.hpp"
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
  const auto build = text.find("loopvisor_build_info{boost=\"1.81.0\",compiler=\"");
  ASSERT_NE(build, std::string::npos) << text;
  EXPECT_NE(text.find(",version=\"" LOOPVISOR_VERSION "\"} 1\n", build), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE loopvisor_loop_lag_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("loopvisor_loop_busy_seconds_total{loop=\"1\"} "), std::string::npos) << text;
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("process_open_fds "), std::string::npos);
}

/// promtool's findings on `text` ("" when it approves), or its failure.
std::string promtool_findings(const std::string& text) {
  // One file per test: ctest runs the tests of this binary in parallel processes.
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string path = ::testing::TempDir() + "/loopvisor_metrics_" + test->name() + ".txt";
  std::ofstream(path) << text;
  const std::string command = "promtool check metrics < " + path + " > " + path + ".out 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream report(path + ".out");
  std::string complaints((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  if (rc != 0) complaints += "\n(promtool exit status " + std::to_string(rc) + ")";
  return complaints;
}

TEST(Metrics, PromtoolFindsNothingToComplainAbout) {
  Supervisor sup(SupervisorOptions{.loops = 2});
  EXPECT_EQ(promtool_findings(scrape(sup)), "");
}

TEST(Metrics, PromtoolRejectsWhatItShould) {  // so the check above can fail
  EXPECT_NE(promtool_findings("# TYPE x counter\nx 1\n"), "");  // a counter without _total
}

/// The line of `text` that starts with `prefix`, or "".
std::string line_starting(const std::string& text, const std::string& prefix) {
  const auto at = text.find("\n" + prefix);
  if (at == std::string::npos) return "";
  return text.substr(at + 1, text.find('\n', at + 1) - at - 1);
}

TEST(Metrics, BindingMirrorsTheCollectorIntoACallersRegistry) {
  SupervisorOptions o;
  o.loops = 2;
  o.watchdog.interval = 5ms;
  Supervisor sup(o);
  prometheus::Registry registry;
  auto& host = prometheus::BuildCounter().Name("host_requests_total").Help("The host's own.").Register(registry);
  host.Add({}).Increment(3);
  {
    MetricsBinding binding(registry, std::make_shared<RuntimeCollector>(sup), 0ms);  // updated by hand
    for (int i = 0; i < 5; ++i) (void)sup.loop(1).submit([] {}).get(bound);
    ASSERT_TRUE(eventually([&] { return sup.loop(1).health()->count() >= 3; }));
    sup.shutdown(5s);  // freeze every counter so the two reads below must agree exactly
    binding.update();
    const auto mirrored = serialize_metrics(registry.Collect());
    const auto direct = serialize_metrics(RuntimeCollector(sup).Collect());
    for (const char* prefix : {"loopvisor_loop_callbacks_total{loop=\"1\"}", "loopvisor_loop_lag_seconds_count{loop=\"1\"}",
                               "loopvisor_loop_lag_seconds_bucket{loop=\"1\",le=\"0.001\"}",
                               "loopvisor_loop_stalled{loop=\"0\"}", "loopvisor_build_info{"}) {
      EXPECT_NE(line_starting(direct, prefix), "") << prefix;
      EXPECT_EQ(line_starting(mirrored, prefix), line_starting(direct, prefix)) << prefix;
    }
    EXPECT_TRUE(has_line(mirrored, "host_requests_total 3")) << mirrored;
    EXPECT_EQ(promtool_findings(mirrored), "");
  }
  const auto after = serialize_metrics(registry.Collect());
  EXPECT_EQ(after.find("loopvisor_"), std::string::npos) << "the binding removes its families";
  EXPECT_TRUE(has_line(after, "host_requests_total 3"));
}

TEST(Metrics, BindingWithAnIntervalKeepsTheRegistryCurrentOnItsOwn) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  prometheus::Registry registry;
  MetricsBinding binding(registry, std::make_shared<RuntimeCollector>(sup), 10ms);
  for (int i = 0; i < 7; ++i) (void)sup.loop(0).submit([] {}).get(bound);
  ASSERT_TRUE(eventually([&] { return sup.loop(0).stats().callbacks_run >= 8; }));
  const auto want = "loopvisor_loop_callbacks_total{loop=\"0\"} " + std::to_string(sup.loop(0).stats().callbacks_run);
  EXPECT_TRUE(eventually([&] { return has_line(serialize_metrics(registry.Collect()), want); }));
}

}  // namespace
}  // namespace loopvisor::test
