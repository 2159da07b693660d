// The asyncio tutorial's scenarios 1, 6 and 7 (docs/asyncio-to-loopvisor.md), scaled down, as behaviour
// checks.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

#include "loopvisor/loopvisor.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

using clock = std::chrono::steady_clock;

// Scenario 1: three coroutines sleeping 300, 100 and 200 ms finish together in about the
// longest, not the sum: they run concurrently on one loop.
TEST(Scenarios, ConcurrentSleepsFinishInAboutTheLongestNotTheSum) {
  auto elapsed = run_on_loop([]() -> asio::awaitable<clock::duration> {
    auto func1 = [](int tenths) -> asio::awaitable<std::string> {
      co_await sleep_for(std::chrono::milliseconds(100 * tenths));
      co_return "recv num " + std::to_string(tenths);
    };
    const auto t0 = clock::now();
    auto a = create_task(func1(3));
    auto b = create_task(func1(1));
    auto c = create_task(func1(2));
    EXPECT_EQ(co_await a.async_wait(), "recv num 3");
    EXPECT_EQ(co_await b.async_wait(), "recv num 1");
    EXPECT_EQ(co_await c.async_wait(), "recv num 2");
    co_return clock::now() - t0;
  });
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 550ms) << "a sequential run would take 600 ms";
}

// Scenario 7: a plain thread hands coroutines to a loop running on another thread and returns
// at once; the results are collected later, and the coroutines ran concurrently.
TEST(Scenarios, PlainThreadSubmitsCoroutinesReturnsAtOnceAndCollectsLater) {
  LoopThread lt;
  auto work = [](int ms) -> asio::awaitable<int> {
    co_await sleep_for(std::chrono::milliseconds(ms));
    co_return ms;
  };
  const auto t0 = clock::now();
  std::vector<ThreadFuture<int>> futures;
  for (int ms : {300, 100, 200}) futures.push_back(lt->run_coroutine_threadsafe(work(ms)));
  const auto submit_time = clock::now() - t0;
  EXPECT_LT(submit_time, 100ms) << "submission does not wait for the work";
  for (auto& f : futures) EXPECT_FALSE(f.done());
  std::vector<int> results;
  for (auto& f : futures) results.push_back(f.get(bound));
  EXPECT_EQ(results, (std::vector<int>{300, 100, 200}));
  EXPECT_LT(clock::now() - t0, 550ms) << "they ran concurrently";
}

// Scenario 7, plain functions: blocking functions posted with call_soon_threadsafe run one
// after another on the loop; the main thread is not held up.
TEST(Scenarios, BlockingFunctionsPostedThreadsafeRunInSequence) {
  LoopThread lt;
  std::mutex mu;
  std::vector<std::pair<int, clock::time_point>> ends;
  const auto t0 = clock::now();
  for (int ms : {30, 20, 60}) {
    lt->call_soon_threadsafe([&, ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));  // a blocking call, on purpose
      std::lock_guard g(mu);
      ends.emplace_back(ms, clock::now());
    });
  }
  EXPECT_LT(clock::now() - t0, 25ms) << "posting returns at once";
  (void)lt->submit([] {}).get(bound);  // FIFO: runs after all three
  std::lock_guard g(mu);
  ASSERT_EQ(ends.size(), 3u);
  EXPECT_EQ(ends[0].first, 30);
  EXPECT_EQ(ends[1].first, 20);
  EXPECT_EQ(ends[2].first, 60);
  EXPECT_GE(ends[2].second - t0, 110ms) << "in sequence: 30 + 20 + 60 ms";
}

// Scenario 6: Ctrl-C while tasks sleep — every task is cancelled (cancel() returns true),
// unwinds, and the program ends early with nothing destroyed while pending.
TEST(Scenarios, CancellingEveryTaskAtShutdownLeavesEachCancelled) {
  std::atomic<int> destroyed_pending{0};
  SupervisorOptions o;
  o.loops = 1;
  o.exception_handler = [&](const ExceptionContext& c) {
    if (c.message == "Task was destroyed but it is pending") ++destroyed_pending;
  };
  Supervisor sup(o);
  auto sleeper = [](int ms) -> asio::awaitable<int> {
    co_await sleep_for(std::chrono::milliseconds(ms));
    co_return ms;
  };
  auto tasks = sup.loop(0)
                   .submit([&sleeper]() -> std::vector<AnyTask> {
                     std::vector<AnyTask> out;
                     for (int ms : {5000, 3000, 4000})
                       out.emplace_back(Loop::current().create_task(sleeper(ms)));
                     return out;
                   })
                   .get(bound);
  const auto t0 = clock::now();
  // The "Ctrl-C" handler: cancel every task from another thread.
  for (auto& t : tasks) EXPECT_TRUE(t.cancel());
  ASSERT_TRUE(eventually([&] {
    for (auto& t : tasks) {
      if (t.status() != TaskStatus::cancelled) return false;
    }
    return true;
  }));
  const auto report = sup.shutdown(1s);
  EXPECT_LT(clock::now() - t0, 1s) << "ends early instead of sleeping 5 s";
  EXPECT_EQ(report.tasks_abandoned, 0u);
  EXPECT_EQ(destroyed_pending.load(), 0);
}

}  // namespace
}  // namespace loopvisor::test
