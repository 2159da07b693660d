// wait, wait_for and shield: return conditions, timeouts, and asyncio's cancellation rules.
#include "loopvisor/wait.hpp"

#include <gtest/gtest.h>

#include "loopvisor/gather.hpp"
#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

// Sleeps for 10 s; sets *unwound if cancellation unwinds it.
asio::awaitable<int> sleep_marking_unwind(bool* unwound) {
  try {
    co_await loopvisor::sleep(10s);
  } catch (...) {
    *unwound = true;
    throw;
  }
  co_return 0;
}

TEST(Wait, AllCompletedReturnsEveryTaskDone) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<Task<int>> tasks{create_task(value_after(5ms, 1)), create_task(value_after(1ms, 2))};
    auto [done, pending] = co_await wait(tasks);
    EXPECT_EQ(done.size(), 2u);
    EXPECT_TRUE(pending.empty());
  });
}

TEST(Wait, FirstCompletedReturnsAsSoonAsOneEnds) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<Task<int>> tasks{create_task(value_after(10s, 1)), create_task(value_after(1ms, 2))};
    auto [done, pending] = co_await wait(tasks, ReturnWhen::first_completed);
    CO_ASSERT_TRUE(done.size() == 1u);
    EXPECT_EQ(done[0].result(), 2);
    CO_ASSERT_TRUE(pending.size() == 1u);
    EXPECT_FALSE(pending[0].done());
    pending[0].cancel();
  });
}

TEST(Wait, FirstExceptionStopsAtTheFirstFailure) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<Task<int>> tasks{create_task(value_after(1ms, 1)), create_task(fail_after(5ms)),
                                 create_task(value_after(10s, 3))};
    auto [done, pending] = co_await wait(tasks, ReturnWhen::first_exception);
    EXPECT_EQ(done.size(), 2u);
    CO_ASSERT_TRUE(pending.size() == 1u);
    EXPECT_THROW((void)done[1].result(), std::runtime_error);
    pending[0].cancel();
  });
}

TEST(Wait, TimeoutReturnsPendingTasksWithoutCancellingThem) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<Task<int>> tasks{create_task(value_after(30ms, 1))};
    auto [done, pending] = co_await wait(tasks, ReturnWhen::all_completed, 2ms);
    EXPECT_TRUE(done.empty());
    CO_ASSERT_TRUE(pending.size() == 1u);
    EXPECT_EQ(co_await pending[0].async_wait(), 1) << "still running, finishes normally";
  });
}

TEST(Wait, AcceptsAwaitablesAndAnswersWithTheTasksMadeForThemInOrder) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<asio::awaitable<int>> coros;
    coros.push_back(value_after(10s, 1));
    coros.push_back(value_after(1ms, 2));
    auto r = co_await wait(std::move(coros), ReturnWhen::first_completed);
    CO_ASSERT_TRUE(r.done.size() == 1 && r.pending.size() == 1);
    EXPECT_EQ(r.done[0].result(), 2);
    EXPECT_FALSE(r.pending[0].done()) << "wait never cancels";
    r.pending[0].cancel();
    EXPECT_THROW((void)co_await r.pending[0], CancelledError);
  });
}

TEST(Wait, EmptySetIsAClearError) {
  run_on_loop([]() -> asio::awaitable<void> {
    EXPECT_THROW((void)co_await wait(std::vector<Task<int>>{}), InvalidStateError);
    co_return;
  });
}

TEST(WaitFor, ReturnsTheValueInTime) {
  EXPECT_EQ(
      run_on_loop([]() -> asio::awaitable<int> { co_return co_await wait_for(value_after(1ms, 5), 5s); }), 5);
}

TEST(WaitFor, TimeoutCancelsTheInnerTaskWaitsForItThenRaisesTimeoutError) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool unwound = false;
    EXPECT_THROW((void)co_await wait_for(sleep_marking_unwind(&unwound), 5ms), TimeoutError);
    EXPECT_TRUE(unwound) << "the inner task had unwound before TimeoutError";
  });
}

asio::awaitable<int> outer_wait_for(asio::awaitable<int> inner) {
  co_return co_await wait_for(std::move(inner), 10s);
}

TEST(WaitFor, CancellingTheOuterCancelsTheInner) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool unwound = false;
    auto outer = create_task(outer_wait_for(sleep_marking_unwind(&unwound)));
    co_await loopvisor::sleep(2ms);
    outer.cancel();
    EXPECT_THROW((void)co_await outer.async_wait(), CancelledError);
    co_await until([&] { return unwound; });
  });
}

TEST(WaitFor, CompletionRacingTheTimeoutKeepsTheValue) {
  run_on_loop([]() -> asio::awaitable<void> {
    // The inner task swallows its cancellation and returns: its value wins, as in asyncio.
    auto swallows_cancel = []() -> asio::awaitable<int> {
      try {
        co_await loopvisor::sleep(10s);
      } catch (...) {
      }
      co_return 9;
    };
    EXPECT_EQ(co_await wait_for(swallows_cancel(), 2ms), 9);
  });
}

asio::awaitable<int> shielded(Task<int> t) { co_return co_await shield(t); }

TEST(Shield, CancellingTheOuterAwaitLeavesTheInnerTaskRunning) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto inner = create_task(value_after(20ms, 4));
    auto outer = create_task(shielded(inner));
    co_await loopvisor::sleep(2ms);
    outer.cancel();
    EXPECT_THROW((void)co_await outer.async_wait(), CancelledError);
    EXPECT_FALSE(inner.cancelled());
    EXPECT_EQ(co_await inner.async_wait(), 4);
  });
}

TEST(WaitFor, ZeroTimeoutReturnsTheResultOfATaskAlreadyDone) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto t = create_task(value_after(0ms, 9));
    while (!t.done()) co_await yield_now();
    EXPECT_EQ(co_await wait_for(t, 0s), 9);
    EXPECT_EQ(co_await wait_for(t, -1s), 9);
  });
}

// Sets *unwound from its RAII cleanup.
asio::awaitable<int> sleeper_with_cleanup(bool* unwound) {
  struct Cleanup {
    bool* flag;
    ~Cleanup() { *flag = true; }
  } cleanup{unwound};
  co_await loopvisor::sleep(10s);
  co_return 1;
}

TEST(WaitFor, ZeroTimeoutCancelsARunningTaskWaitsForItToUnwindThenRaises) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool unwound = false;
    auto t = create_task(sleeper_with_cleanup(&unwound));
    co_await yield_now();
    EXPECT_THROW((void)co_await wait_for(t, 0s), TimeoutError);
    EXPECT_TRUE(t.cancelled()) << "wait_for(x, 0) left x running";
    EXPECT_TRUE(unwound);
  });
}

TEST(WaitFor, NegativeTimeoutOnACoroutineCancelsItBeforeItStarts) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool unwound = false;
    try {
      (void)co_await wait_for(sleeper_with_cleanup(&unwound), -5ms);
      ADD_FAILURE() << "no TimeoutError";
    } catch (const TimeoutError& e) {
      EXPECT_NE(e.cause(), nullptr);
    }
  });
}

TEST(WaitFor, ATaskThatSwallowsTheCancelAndReturnsWinsOverTheTimeout) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto t = create_task([]() -> asio::awaitable<int> {
      try {
        co_await loopvisor::sleep(10s);
      } catch (const CancelledError&) {
        co_return 5;
      }
      co_return 0;
    }());
    co_await yield_now();
    EXPECT_EQ(co_await wait_for(t, 1ms), 5);
  });
}

TEST(Wait, ATaskGivenTwiceCountsOnce) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto c = create_task(value_after(0ms, 1));
    auto d = create_task(value_after(10s, 2));
    const std::vector<Task<int>> set{c, c, d};
    auto r = co_await wait(set, ReturnWhen::first_completed);
    EXPECT_EQ(r.done.size(), 1u);
    EXPECT_EQ(r.pending.size(), 1u);
    d.cancel();
  });
}

TEST(Wait, FirstExceptionDoesNotCountACancelledChildAsAnException) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto victim = create_task(value_after(10s, 0));
    auto slow = create_task(value_after(20ms, 1));
    Loop::current().call_later(1ms, [victim]() mutable { victim.cancel(); });
    const std::vector<Task<int>> set{victim, slow};
    auto r = co_await wait(set, ReturnWhen::first_exception);
    EXPECT_EQ(r.done.size(), 2u) << "wait returned at the cancellation, not at the end of all";
    EXPECT_TRUE(r.pending.empty());
  });
}

TEST(Wait, TasksOfAnotherLoopAreRefusedWithAClearError) {
  LoopThread other;
  auto foreign =
      other->submit([]() -> asio::awaitable<Task<int>> { co_return create_task(value_after(10s, 1)); })
          .get(bound);
  run_on_loop([foreign]() -> asio::awaitable<void> {
    // Named first: GCC 12 miscompiles braced containers inside a co_await expression.
    const std::vector<Task<int>> set(1, foreign);
    EXPECT_THROW((void)co_await wait(set), WrongThreadError);
    EXPECT_THROW((void)co_await gather(set), WrongThreadError);
    EXPECT_THROW((void)co_await wait_for(foreign, 1s), WrongThreadError);
  });
  other->submit([foreign]() mutable { foreign.cancel(); }).get(bound);
}

}  // namespace
}  // namespace loopvisor::test
