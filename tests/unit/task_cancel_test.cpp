// Task cancellation at the edges, as asyncio 3.13 defines it: a request is never lost, awaits
// cannot cycle into a crash, cancel messages and cancelling()/uncancel() bookkeeping.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loopvisor/loop.hpp"
#include "loopvisor/task.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

// Parameters (not lambda captures) live in the coroutine frame.
asio::awaitable<int> await_own_task(std::shared_ptr<Task<int>> self) {
  co_return co_await self->async_wait();
}

asio::awaitable<int> await_other(std::shared_ptr<Task<int>> other) { co_return co_await other->async_wait(); }

asio::awaitable<int> cancel_self_then_return(int v) {
  EXPECT_TRUE(current_task().cancel());
  co_return v;
}

TEST(TaskCancel, AwaitingItselfRaisesInsteadOfHanging) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto self = std::make_shared<Task<int>>();
    *self = create_task(await_own_task(self), "narcissus");
    try {
      (void)co_await self->async_wait();
      ADD_FAILURE() << "awaiting a task that awaits itself returned";
    } catch (const InvalidStateError& e) {
      EXPECT_NE(std::string(e.what()).find("cannot await on itself"), std::string::npos) << e.what();
    }
    EXPECT_EQ(self->status(), TaskStatus::done);
    *self = Task<int>();  // break the cycle through the coroutine's parameter
  });
}

TEST(TaskCancel, CancellingTwoTasksThatAwaitEachOtherEndsBothWithoutRecursing) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto a = std::make_shared<Task<int>>();
    auto b = std::make_shared<Task<int>>();
    *a = create_task(await_other(b), "a");
    *b = create_task(await_other(a), "b");
    co_await yield_now();
    co_await yield_now();
    EXPECT_TRUE(a->cancel());
    EXPECT_THROW((void)co_await a->async_wait(), CancelledError);
    EXPECT_THROW((void)co_await b->async_wait(), CancelledError);
    EXPECT_TRUE(a->cancelled());
    EXPECT_TRUE(b->cancelled());
    *a = Task<int>();
    *b = Task<int>();
  });
}

TEST(TaskCancel, ATaskThatCancelsItselfAndReturnsEndsCancelled) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto t = create_task(cancel_self_then_return(5));
    EXPECT_THROW((void)co_await t.async_wait(), CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_THROW((void)t.result(), CancelledError);
  });
}

// The task publishes its handle, then stays busy in one step until another thread's cancel()
// has returned true; it then returns a value.
asio::awaitable<int> busy_until_cancelled(AnyTask* self, std::atomic<bool>* started,
                                          std::atomic<bool>* cancelled) {
  *self = current_task();
  started->store(true);
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!cancelled->load() && std::chrono::steady_clock::now() < deadline) {
  }
  co_return 1;
}

TEST(TaskCancel, ACancelFromAnotherThreadWhileTheStepRunsIsNotLostWhenTheTaskReturns) {
  LoopThread lt;
  AnyTask self;
  std::atomic<bool> started{false};
  std::atomic<bool> cancelled{false};
  auto future = lt->submit([&]() -> asio::awaitable<TaskStatus> {
    auto t = create_task(busy_until_cancelled(&self, &started, &cancelled));
    try {
      (void)co_await t.async_wait();
    } catch (const CancelledError&) {
    }
    co_return t.status();
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  EXPECT_TRUE(self.cancel());
  cancelled.store(true);
  EXPECT_EQ(future.get(bound), TaskStatus::cancelled);
}

TEST(TaskCancel, CancelAfterTheAwaitedFuturesResultArrivedEndsTheTaskCancelled) {
  LoopThread producer;
  run_on_loop([&producer]() -> asio::awaitable<void> {
    auto result = producer->submit([] { return 7; });
    auto t = create_task(
        [](ThreadFuture<int> f) -> asio::awaitable<int> { co_return co_await f.async_wait(); }(result));
    co_await yield_now();  // t now awaits the future
    // In one step: the result arrives (its delivery to t is queued behind this step), then t
    // is cancelled. asyncio drops the undelivered result and raises CancelledError in t.
    EXPECT_TRUE(result.wait_for(bound));
    EXPECT_TRUE(t.cancel());
    EXPECT_THROW((void)co_await t.async_wait(), CancelledError);
    EXPECT_TRUE(t.cancelled());
  });
}

TEST(TaskCancel, CancelAfterTheAwaitedTaskEndedButBeforeTheAwaiterResumedEndsItCancelled) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto inner = std::make_shared<Task<int>>(create_task(value_after(1ms, 3), "inner"));
    auto outer = std::make_shared<Task<int>>();
    // Registered before outer awaits inner: runs before outer is resumed with inner's result.
    inner->add_done_callback([outer](Task<int>) { EXPECT_TRUE(outer->cancel()); });
    *outer = create_task(await_other(inner), "outer");
    EXPECT_THROW((void)co_await outer->async_wait(), CancelledError);
    EXPECT_EQ(inner->result(), 3);
    EXPECT_TRUE(outer->cancelled());
  });
}

// Awaits a task that has already ended, with a cancel of this task queued just before the
// await begins; says what that cancel returned.
asio::awaitable<int> await_ended_with_a_cancel_queued(std::shared_ptr<Task<int>> ended, bool direct,
                                                      std::shared_ptr<std::optional<bool>> cancel_said) {
  EXPECT_TRUE(ended->done());
  Loop::current().call_soon([me = current_task(), cancel_said]() mutable { *cancel_said = me.cancel(); });
  if (direct) co_return co_await *ended;
  co_return co_await ended->async_wait();
}

// asyncio: `await task` on a done task returns without yielding, so the awaiter returns its
// result in the same step, and a cancel queued before the await finds it done (False).
TEST(TaskCancel, ACancelQueuedJustBeforeAwaitingAnEndedTaskFindsTheAwaiterDone) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto ended = std::make_shared<Task<int>>(create_task(value_after(0ms, 3), "ended"));
    co_await until([&] { return ended->done(); });
    for (const bool direct : {true, false}) {
      auto cancel_said = std::make_shared<std::optional<bool>>();
      auto awaiter = create_task(await_ended_with_a_cancel_queued(ended, direct, cancel_said), "awaiter");
      const int got = co_await awaiter;
      EXPECT_EQ(got, 3) << (direct ? "co_await task" : "async_wait()");
      EXPECT_FALSE(awaiter.cancelled());
      auto cancel_ran = [cancel_said] { return cancel_said->has_value(); };
      co_await until(cancel_ran);
      const std::optional<bool> said = *cancel_said;
      EXPECT_EQ(said, std::optional<bool>(false)) << "the cancel found the awaiter still running";
    }
    EXPECT_EQ(ended->result(), 3);
  });
}

asio::awaitable<int> cancel_self_then_await(std::shared_ptr<Task<int>> other) {
  current_task().cancel();
  co_return co_await other->async_wait();
}

TEST(TaskCancel, APendingRequestIsDeliveredToTheTaskItThenAwaitsWhichIsCancelled) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto inner = std::make_shared<Task<int>>(create_task(value_after(10s, 1), "inner"));
    auto outer = create_task(cancel_self_then_await(inner), "outer");
    EXPECT_THROW((void)co_await outer.async_wait(), CancelledError);
    EXPECT_THROW((void)co_await inner->async_wait(), CancelledError);
    EXPECT_TRUE(inner->cancelled()) << "the awaited task was left running";
  });
}

TEST(TaskCancel, CancelMessageReachesTheCancelledErrorOfTheTaskAndItsAwaiter) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto t = create_task(value_after(10s, 1));
    co_await yield_now();
    EXPECT_TRUE(t.cancel("operator asked"));
    try {
      (void)co_await t.async_wait();
      ADD_FAILURE() << "no CancelledError";
    } catch (const CancelledError& e) {
      EXPECT_STREQ(e.what(), "operator asked");
    }
    try {
      (void)t.result();
      ADD_FAILURE() << "no CancelledError";
    } catch (const CancelledError& e) {
      EXPECT_STREQ(e.what(), "operator asked");
    }
  });
}

asio::awaitable<std::string> catch_cancel_message() {
  try {
    co_await loopvisor::sleep(10s);
  } catch (const CancelledError& e) {
    co_return e.what();
  }
  co_return "not cancelled";
}

TEST(TaskCancel, TheCancelledCoroutineSeesTheMessageAtItsAwait) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto t = create_task(catch_cancel_message());
    co_await yield_now();
    EXPECT_TRUE(t.cancel("stop now"));
    EXPECT_EQ(co_await t.async_wait(), "stop now");
  });
}

TEST(TaskCancel, CancellingCountsRequestsAndUncancelWithdrawsThem) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto t = create_task(value_after(10s, 1));
    co_await yield_now();
    EXPECT_EQ(t.cancelling(), 0);
    EXPECT_TRUE(t.cancel());
    EXPECT_TRUE(t.cancel());
    EXPECT_EQ(t.cancelling(), 2);
    EXPECT_EQ(t.uncancel(), 1);
    EXPECT_THROW((void)co_await t.async_wait(), CancelledError);
  });
}

asio::awaitable<int> cancel_self_uncancel_then_return(int v) {
  auto self = current_task();
  self.cancel();
  EXPECT_EQ(self.cancelling(), 1);
  EXPECT_EQ(self.uncancel(), 0);  // 3.13: back to zero forgets the undelivered request
  co_return v;
}

TEST(TaskCancel, UncancelToZeroForgetsARequestNotYetDelivered) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto t = create_task(cancel_self_uncancel_then_return(4));
    EXPECT_EQ(co_await t.async_wait(), 4);
    EXPECT_EQ(t.status(), TaskStatus::done);
  });
}

TEST(TaskCancel, CancelOfAFailedTaskMarksItsErrorRetrieved) {
  std::atomic<int> reports{0};
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext&) { ++reports; };
  run_on_loop(
      []() -> asio::awaitable<void> {
        auto t = create_task(fail_after(0ms));
        while (!t.done()) co_await yield_now();
        EXPECT_FALSE(t.cancel());
      },
      options);
  EXPECT_EQ(reports.load(), 0) << "asyncio: cancel() of a failed task silences 'never retrieved'";
}

TEST(TaskCancel, RemoveDoneCallbackKeepsItFromRunning) {
  run_on_loop([]() -> asio::awaitable<void> {
    int ran = 0;
    auto t = create_task(value_after(1ms, 1));
    const auto id = t.add_done_callback([&](Task<int>) { ran += 1; });
    t.add_done_callback([&](Task<int>) { ran += 10; });
    EXPECT_TRUE(t.remove_done_callback(id));
    EXPECT_FALSE(t.remove_done_callback(id));
    (void)co_await t.async_wait();
    co_await yield_now();
    EXPECT_EQ(ran, 10);
  });
}

TEST(TaskCancel, CurrentTaskIsRightAfterAwaitingAnotherTask) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto outer = create_task([]() -> asio::awaitable<bool> {
      const auto me = current_task().id();
      auto inner = create_task(value_after(1ms, 1));
      (void)co_await inner.async_wait();
      auto after = current_task();
      co_return after.valid() && after.id() == me;
    }());
    EXPECT_TRUE(co_await outer.async_wait());
  });
}

TEST(TaskCancel, CurrentTaskIsRightAfterAwaitingAThreadFuture) {
  LoopThread producer;
  run_on_loop([&producer]() -> asio::awaitable<void> {
    auto f = producer->submit([] { return 1; });
    auto outer = create_task([](ThreadFuture<int> fut) -> asio::awaitable<bool> {
      const auto me = current_task().id();
      (void)co_await fut.async_wait();
      auto after = current_task();
      co_return after.valid() && after.id() == me;
    }(f));
    EXPECT_TRUE(co_await outer.async_wait());
  });
}

TEST(TaskCancel, CurrentTaskOffAnyLoopIsWrongThreadError) {
  EXPECT_THROW((void)current_task(), WrongThreadError);
}

TEST(TaskCancel, AnAwaiterResumesAfterTheDoneCallbacksAddedBeforeIt) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<std::string> order;
    auto inner = create_task(value_after(1ms, 1));
    inner.add_done_callback([&](Task<int>) { order.push_back("callback"); });
    (void)co_await inner.async_wait();
    order.push_back("awaiter");
    EXPECT_EQ(order, (std::vector<std::string>{"callback", "awaiter"}));
  });
}

TEST(TaskCancel, OnTheLoopCallSoonThreadsafeThenCallSoonRunInThatOrder) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<char> order;
    auto& loop = Loop::current();
    loop.call_soon_threadsafe([&] { order.push_back('a'); });
    loop.call_soon([&] { order.push_back('b'); });
    while (order.size() < 2) co_await yield_now();
    EXPECT_EQ(order, (std::vector<char>{'a', 'b'}));
  });
}

}  // namespace
}  // namespace loopvisor::test
