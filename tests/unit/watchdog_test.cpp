// Watchdog: lag is measured, a blocked loop is flagged stalled and recovers, others are not.
#include "loopvisor/watchdog.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "loopvisor/supervisor.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

SupervisorOptions watched(std::size_t loops) {
  SupervisorOptions o;
  o.loops = loops;
  o.watchdog.interval = 5ms;
  o.watchdog.stall_threshold = 50ms;
  return o;
}

TEST(Watchdog, MeasuresLagOnEveryLoop) {
  Supervisor sup(watched(2));
  EXPECT_TRUE(
      eventually([&] { return sup.loop(0).stats().lag_probes >= 3 && sup.loop(1).stats().lag_probes >= 3; }));
  EXPECT_FALSE(sup.loop(0).stats().stalled);
  EXPECT_LT(sup.loop(0).stats().lag, 50ms);
}

TEST(Watchdog, BlockedLoopIsFlaggedStalledAndRecoversOthersUnaffected) {
  Supervisor sup(watched(2));
  Signal release;
  sup.loop(0).call_soon_threadsafe([&] { release.wait(); });  // blocks loop 0 on purpose
  EXPECT_TRUE(eventually([&] { return sup.loop(0).stats().stalled; }));
  EXPECT_GE(sup.loop(0).stats().lag, 50ms);
  // The blocking callback has not returned, yet the loop reads busy.
  EXPECT_TRUE(eventually([&] { return sup.loop(0).stats().busy_ratio > 0.9; }));
  EXPECT_FALSE(sup.loop(1).stats().stalled);
  release.set();
  EXPECT_TRUE(eventually([&] { return !sup.loop(0).stats().stalled; }));
}

TEST(Watchdog, BusyRatioFollowsTheLoopsRecentWork) {
  Supervisor sup(watched(2));
  std::atomic<bool> stop{false};
  // Loop 0 runs short busy steps back to back until told to stop; loop 1 idles.
  auto spinning = sup.loop(0).run_coroutine_threadsafe([](std::atomic<bool>* stop) -> asio::awaitable<void> {
    while (!stop->load()) {
      const auto until_time = std::chrono::steady_clock::now() + 2ms;
      while (std::chrono::steady_clock::now() < until_time) {
      }
      co_await yield_now();
    }
  }(&stop));
  EXPECT_TRUE(eventually([&] { return sup.loop(0).stats().busy_ratio > 0.8; }));
  EXPECT_LT(sup.loop(1).stats().busy_ratio, 0.5);
  stop = true;
  spinning.get(bound);
  EXPECT_TRUE(eventually([&] { return sup.loop(0).stats().busy_ratio < 0.2; }));
}

TEST(Watchdog, ZeroIntervalTurnsItOff) {
  SupervisorOptions o;
  o.loops = 1;
  o.watchdog.interval = 0ms;
  Supervisor sup(o);
  (void)sup.loop(0).submit([] {}).get(bound);
  EXPECT_EQ(sup.loop(0).stats().lag_probes, 0u);
}

}  // namespace
}  // namespace loopvisor::test
