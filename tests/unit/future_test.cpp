// Future<T> (asyncio.Future on one loop) and Loop::run_until_complete.
#include "loopvisor/future.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "loopvisor/loop.hpp"
#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<int> await_future(Future<int> f) { co_return co_await f.async_wait(); }

TEST(Future, SetResultWakesTheAwaiterWithTheValue) {
  run_on_loop([]() -> asio::awaitable<void> {
    Future<int> f;
    EXPECT_FALSE(f.done());
    EXPECT_THROW((void)f.result(), InvalidStateError);
    auto waiter = create_task(await_future(f));
    co_await yield_now();
    f.set_result(42);
    EXPECT_TRUE(f.done());
    EXPECT_EQ(f.result(), 42);
    EXPECT_EQ(co_await waiter.async_wait(), 42);
  });
}

TEST(Future, ASecondSetIsInvalidStateError) {
  run_on_loop([]() -> asio::awaitable<void> {
    Future<int> f;
    f.set_result(1);
    EXPECT_THROW(f.set_result(2), InvalidStateError);
    EXPECT_THROW(f.set_exception(std::make_exception_ptr(std::runtime_error("x"))), InvalidStateError);
    EXPECT_FALSE(f.cancel());
    Future<void> c;
    EXPECT_TRUE(c.cancel());
    EXPECT_THROW(c.set_result(), InvalidStateError);
    co_return;
  });
}

TEST(Future, SetExceptionIsRaisedByResultAndTheAwait) {
  run_on_loop([]() -> asio::awaitable<void> {
    Future<int> f;
    f.set_exception(std::make_exception_ptr(std::runtime_error("broken")));
    EXPECT_THROW((void)f.result(), std::runtime_error);
    EXPECT_NE(f.exception(), nullptr);
    EXPECT_THROW((void)co_await f.async_wait(), std::runtime_error);
  });
}

TEST(Future, CancelWithAMessageReachesResultAndTheAwaiter) {
  run_on_loop([]() -> asio::awaitable<void> {
    Future<int> f;
    auto waiter = create_task(await_future(f));
    co_await yield_now();
    EXPECT_TRUE(f.cancel("no longer needed"));
    EXPECT_TRUE(f.cancelled());
    try {
      (void)f.result();
      ADD_FAILURE() << "no CancelledError";
    } catch (const CancelledError& e) {
      EXPECT_STREQ(e.what(), "no longer needed");
    }
    EXPECT_THROW((void)f.exception(), CancelledError);
    EXPECT_THROW((void)co_await waiter.async_wait(), CancelledError);
  });
}

TEST(Future, CancellingTheAwaitingTaskCancelsTheFuture) {
  run_on_loop([]() -> asio::awaitable<void> {
    Future<int> f;
    auto waiter = create_task(await_future(f));
    co_await yield_now();
    EXPECT_TRUE(waiter.cancel());
    EXPECT_THROW((void)co_await waiter.async_wait(), CancelledError);
    EXPECT_TRUE(f.cancelled());
  });
}

TEST(Future, CoAwaitOfTheFutureItselfYieldsTheValueOrRethrows) {
  run_on_loop([]() -> asio::awaitable<void> {
    Future<int> f;
    auto setter = create_task([](Future<int> fut) -> asio::awaitable<void> {
      co_await yield_now();
      fut.set_result(5);
    }(f));
    const int v = co_await f;
    EXPECT_EQ(v, 5);
    Future<void> failed;
    failed.set_exception(std::make_exception_ptr(std::runtime_error("no")));
    EXPECT_THROW(co_await failed, std::runtime_error);
    co_await setter;
  });
}

TEST(Future, DoneCallbacksRunInOrderAndOneCanBeRemoved) {
  run_on_loop([]() -> asio::awaitable<void> {
    Future<int> f;
    std::vector<int> order;
    f.add_done_callback([&](Future<int>) { order.push_back(1); });
    const auto id = f.add_done_callback([&](Future<int>) { order.push_back(2); });
    f.add_done_callback([&](Future<int> done) { order.push_back(done.result()); });
    EXPECT_TRUE(f.remove_done_callback(id));
    f.set_result(3);
    EXPECT_TRUE(order.empty()) << "callbacks are scheduled, never run inline";
    co_await yield_now();
    EXPECT_EQ(order, (std::vector<int>{1, 3}));
  });
}

// asyncio: `await fut` on a done future returns without yielding: a callback queued before
// the await (here the future's own done callback) has not run when the awaiter goes on. So
// for a value, an exception and a cancelled future, awaited directly and via async_wait().
TEST(Future, AwaitingADoneFutureReturnsWithoutYieldingToTheLoop) {
  run_on_loop([]() -> asio::awaitable<void> {
    for (const bool direct : {true, false}) {
      auto ran = std::make_shared<int>(0);
      Future<int> value;
      value.add_done_callback([ran](Future<int>) { ++*ran; });
      value.set_result(5);
      int got = 0;
      if (direct) {
        got = co_await value;
      } else {
        got = co_await value.async_wait();
      }
      EXPECT_EQ(got, 5);
      Future<void> failed;
      failed.add_done_callback([ran](Future<void>) { ++*ran; });
      failed.set_exception(std::make_exception_ptr(std::runtime_error("no")));
      EXPECT_THROW(co_await failed, std::runtime_error);
      Future<void> cancelled;
      cancelled.add_done_callback([ran](Future<void>) { ++*ran; });
      cancelled.cancel();
      EXPECT_THROW(co_await cancelled, CancelledError);
      const int ran_before = *ran;
      EXPECT_EQ(ran_before, 0) << (direct ? "co_await" : "async_wait()") << " of a done future yielded";
      co_await yield_now();
      const int ran_after = *ran;
      EXPECT_EQ(ran_after, 3);
    }
  });
}

TEST(Future, AnExceptionNobodyReadIsReportedAsNeverRetrieved) {
  std::atomic<int> reports{0};
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext& c) {
    EXPECT_EQ(c.message, "Future exception was never retrieved");
    ++reports;
  };
  run_on_loop(
      []() -> asio::awaitable<void> {
        Future<int> f;
        f.set_exception(std::make_exception_ptr(std::runtime_error("lost")));
        co_return;
      },
      options);
  EXPECT_EQ(reports.load(), 1);
}

TEST(Future, UseOffItsLoopIsWrongThreadError) {
  EXPECT_THROW(Future<int>{}, WrongThreadError);
  LoopThread lt;
  auto f = lt->submit([]() { return Future<int>(); }).get(bound);
  EXPECT_THROW((void)f.done(), WrongThreadError);
  EXPECT_THROW(f.set_result(1), WrongThreadError);
}

TEST(Loop, RunUntilCompleteReturnsTheCoroutinesResult) {
  Loop loop;
  EXPECT_EQ(loop.run_until_complete(value_after(1ms, 11)), 11);
  EXPECT_FALSE(loop.is_running());
  EXPECT_THROW((void)loop.run_until_complete(fail_after(0ms, "boom")), std::runtime_error);
  EXPECT_EQ(loop.run_until_complete(value_after(0ms, 12)), 12) << "the loop can run again";
  loop.close(1s, 1s);
}

TEST(Loop, RunUntilCompleteRaisesIfTheLoopStopsFirst) {
  Loop loop;
  EXPECT_THROW((void)loop.run_until_complete([](Loop* l) -> asio::awaitable<int> {
    l->stop();
    co_await loopvisor::sleep(10s);
    co_return 1;
  }(&loop)),
               InvalidStateError);
  loop.close(1s, 1s);
}

}  // namespace
}  // namespace loopvisor::test
