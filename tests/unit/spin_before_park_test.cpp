// LoopOptions::spin_before_park: a spinning loop still runs everything, stops, and parks when idle.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "loopvisor/cpu_count.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/supervisor.hpp"
#include "loopvisor/sync/event.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

LoopOptions spinning(std::chrono::microseconds spin) {
  LoopOptions o;
  o.spin_before_park = spin;
  return o;
}

int this_tid() { return static_cast<int>(::syscall(SYS_gettid)); }

// The scheduler state of one of this process's threads: 'R' running (spinning), 'S' asleep.
char thread_state(int tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(in, line);
  const auto paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() ? '?' : line[paren + 2];
}

TEST(SpinBeforePark, OutOfRangeIsInvalidArgumentNamingTheField) {
  for (auto spin : {std::chrono::microseconds(-1), std::chrono::microseconds(1'000'001)}) {
    try {
      Loop loop(spinning(spin));
      ADD_FAILURE() << "accepted spin_before_park = " << spin.count() << " us";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("LoopOptions::spin_before_park"), std::string::npos) << e.what();
    }
    SupervisorOptions options;
    options.loops = 1;
    options.spin_before_park = spin;
    EXPECT_THROW(Supervisor{options}, std::invalid_argument);
  }
  Loop at_the_limit(spinning(std::chrono::seconds(1)));  // 1 s itself is allowed
}

TEST(SpinBeforePark, ASpinningLoopRunsCallbacksTimersTasksAndRepliesFromAnotherLoop) {
  LoopThread a(spinning(std::chrono::microseconds(200)));
  LoopThread b(spinning(std::chrono::microseconds(200)));
  // Thread -> loop round trips: each wakes the loop from spinning or from parking.
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(a->submit([i] { return i; }).get(bound), i);
  // Timers, and replies that come back as control posts from another loop (not the inbox).
  auto hops = a->submit([&b]() -> asio::awaitable<int> {
    int sum = 0;
    for (int i = 0; i < 200; ++i) {
      co_await sleep_for(std::chrono::microseconds(i % 3 == 0 ? 50 : 0));
      sum += co_await b->submit([] { return 1; }).async_wait();
    }
    co_return sum;
  });
  EXPECT_EQ(hops.get(bound), 200);
  // Many producers at once: nothing accepted is lost.
  std::atomic<int> ran{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        while (a->try_call_soon_threadsafe([&ran] { ran.fetch_add(1); }) != SubmitStatus::accepted) {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  EXPECT_TRUE(eventually([&] { return ran.load() == 15000; })) << ran.load();
}

TEST(SpinBeforePark, AnIdleLoopAndABlockedWaiterSleepOnceTheBudgetIsSpent) {
  LoopThread lt(spinning(std::chrono::milliseconds(2)));
  const int loop_tid = lt->submit([] { return this_tid(); }).get(bound);
  // Spinning forever would keep the thread running ('R') and fail this after the bound.
  EXPECT_TRUE(eventually([&] { return thread_state(loop_tid) == 'S'; })) << thread_state(loop_tid);

  // A thread blocked in get() on one of the loop's futures spins too, then sleeps.
  Event release;
  auto future = lt->submit([&release]() -> asio::awaitable<int> {
    co_await release.wait();
    co_return 7;
  });
  std::atomic<int> waiter_tid{0};
  auto waiter = std::async(std::launch::async, [&] {
    waiter_tid = this_tid();
    return future.get();
  });
  EXPECT_TRUE(eventually([&] { return waiter_tid.load() != 0 && thread_state(waiter_tid) == 'S'; }));
  lt->call_soon_threadsafe([&release] { release.set(); });
  ASSERT_EQ(waiter.wait_for(bound), std::future_status::ready);
  EXPECT_EQ(waiter.get(), 7);
}

TEST(SpinBeforePark, IsNotAppliedWhenTheProcessMayUseOneCpu) {
  // process_cpu_count() reads the calling thread's mask: narrow it while the loop is made (its
  // thread inherits the one CPU, as in a process started under taskset -c 0).
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof saved, &saved), 0);
  if (CPU_COUNT(&saved) < 2 || process_cpu_count() < 2) GTEST_SKIP() << "needs two CPUs";
  {
    LoopThread two(spinning(std::chrono::microseconds(50)));
    EXPECT_EQ(two->spin_before_park(), std::chrono::microseconds(50));
  }
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof one, &one), 0);
  std::optional<LoopThread> single;
  single.emplace(spinning(std::chrono::milliseconds(500)));
  ASSERT_EQ(sched_setaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(single->loop().spin_before_park(), std::chrono::microseconds(0));
  EXPECT_EQ(single->loop().submit([] { return 7; }).get(bound), 7);
}

TEST(SpinBeforePark, StopEndsRunForeverOfASpinningLoop) {
  Loop loop(spinning(std::chrono::seconds(1)));
  auto runner = std::async(std::launch::async, [&] { loop.run_forever(); });
  ASSERT_EQ(loop.submit([] { return 1; }).get(bound), 1);  // running, now spinning idle
  loop.stop();
  EXPECT_EQ(runner.wait_for(bound), std::future_status::ready);
  runner.get();
  (void)loop.close(1s, 1s);
}

TEST(SpinBeforePark, ATimedWaitEndsAtItsDeadlineEvenWhenTheBudgetIsLonger) {
  LoopThread lt(spinning(std::chrono::seconds(1)));
  auto future = lt->submit([]() -> asio::awaitable<void> { co_await sleep_for(std::chrono::hours(1)); });
  EXPECT_THROW(future.get(1ms), TimeoutError);
  EXPECT_FALSE(future.wait_for(0ms));
  future.cancel();
}

}  // namespace
}  // namespace loopvisor::test
