// MetricsBinding: a Collectable's series mirrored into a caller's prometheus::Registry.
#include "loopvisor/metrics_binding.hpp"

#include <gtest/gtest.h>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "loopvisor/metrics.hpp"
#include "loopvisor/supervisor.hpp"
#include "metrics_support.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

TEST(MetricsBinding, MirrorsTheCollectorIntoACallersRegistry) {
  SupervisorOptions o;
  o.loops = 2;
  o.watchdog.interval = 5ms;
  Supervisor sup(o);
  prometheus::Registry registry;
  auto& host =
      prometheus::BuildCounter().Name("host_requests_total").Help("The host's own.").Register(registry);
  host.Add({}).Increment(3);
  {
    MetricsBinding binding(registry, std::make_shared<RuntimeCollector>(sup), 0ms);  // updated by hand
    for (int i = 0; i < 5; ++i) (void)sup.loop(1).submit([] {}).get(bound);
    ASSERT_TRUE(eventually([&] { return sup.loop(1).stats().lag_probes >= 3; }));
    sup.shutdown(5s);  // freeze every counter so the two reads below must agree exactly
    binding.update();
    const auto mirrored = serialize_metrics(registry.Collect());
    const auto direct = serialize_metrics(RuntimeCollector(sup).Collect());
    for (const char* prefix :
         {"loopvisor_loop_callbacks_total{loop=\"1\"}", "loopvisor_loop_lag_seconds_count{loop=\"1\"}",
          "loopvisor_loop_lag_seconds_bucket{loop=\"1\",le=\"0.001\"}", "loopvisor_loop_stalled{loop=\"0\"}",
          "loopvisor_build_info{"}) {
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

TEST(MetricsBinding, WithAnIntervalKeepsTheRegistryCurrentOnItsOwn) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  prometheus::Registry registry;
  MetricsBinding binding(registry, std::make_shared<RuntimeCollector>(sup), 10ms);
  for (int i = 0; i < 7; ++i) (void)sup.loop(0).submit([] {}).get(bound);
  ASSERT_TRUE(eventually([&] { return sup.loop(0).stats().callbacks_run >= 8; }));
  const auto want =
      "loopvisor_loop_callbacks_total{loop=\"0\"} " + std::to_string(sup.loop(0).stats().callbacks_run);
  EXPECT_TRUE(eventually([&] { return has_line(serialize_metrics(registry.Collect()), want); }));
}

}  // namespace
}  // namespace loopvisor::test
