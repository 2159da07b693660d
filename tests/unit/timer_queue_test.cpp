// detail::TimerQueue: deadline order, FIFO ties, cancellation, cancel_all.
#include "timer_queue.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace loopvisor::detail {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  boost::asio::io_context io;
  std::vector<int> ran;
  TimerQueue timers{io, [](Callback& fn) { fn(); }};
  void add(std::chrono::milliseconds at, int v, std::chrono::steady_clock::time_point t0) {
    (void)timers.add(t0 + at, [this, v] { ran.push_back(v); });
  }
};

TEST(TimerQueue, RunsByDeadlineThenInsertionOrder) {
  Fixture f;
  const auto t0 = std::chrono::steady_clock::now();
  f.add(6ms, 3, t0);
  f.add(2ms, 1, t0);
  f.add(4ms, 2, t0);
  f.add(4ms, 21, t0);
  f.io.run_for(200ms);
  EXPECT_EQ(f.ran, (std::vector<int>{1, 2, 21, 3}));
}

TEST(TimerQueue, CancelledEntryNeverRunsAndCancelReportsOnce) {
  Fixture f;
  const auto t0 = std::chrono::steady_clock::now();
  auto entry = f.timers.add(t0 + 1ms, [&f] { f.ran.push_back(1); });
  f.add(2ms, 2, t0);
  EXPECT_TRUE(entry->cancel(0));
  EXPECT_FALSE(entry->cancel(0));
  f.io.run_for(100ms);
  EXPECT_EQ(f.ran, (std::vector<int>{2}));
  EXPECT_FALSE(entry->fire());
}

TEST(TimerQueue, CancelAllDropsPendingTimersAndCountsThem) {
  Fixture f;
  const auto t0 = std::chrono::steady_clock::now();
  f.add(1h, 1, t0);
  f.add(2h, 2, t0);
  EXPECT_EQ(f.timers.cancel_all(), 2u);
  EXPECT_EQ(f.timers.size(), 0u);
  f.io.run_for(10ms);
  EXPECT_TRUE(f.ran.empty());
}

TEST(TimerQueue, ManyCancelledEntriesAreCompactedAway) {
  Fixture f;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<TimerEntry>> entries;
  for (int i = 0; i < 1000; ++i) entries.push_back(f.timers.add(t0 + 1h, [] {}));
  for (auto& e : entries) e->cancel(0);
  for (int i = 0; i < 64; ++i) (void)f.timers.add(t0 + 1h, [] {});
  EXPECT_LT(f.timers.size(), 200u);
}

}  // namespace
}  // namespace loopvisor::detail
