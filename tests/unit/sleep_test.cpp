// sleep: waits its delay, sleep(0) yields to queued work, cancellation raises CancelledError.
#include "loopvisor/sleep.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <future>

#include "test_support.hpp"

namespace loopvisor::test {
namespace {

TEST(Sleep, WaitsAtLeastItsDelay) {
  auto waited = run_on_loop([]() -> asio::awaitable<std::chrono::steady_clock::duration> {
    const auto t0 = std::chrono::steady_clock::now();
    co_await loopvisor::sleep(15ms);
    co_return std::chrono::steady_clock::now() - t0;
  });
  EXPECT_GE(waited, 15ms);
}

TEST(Sleep, ZeroYieldsToWorkAlreadyQueued) {
  auto ran = run_on_loop([]() -> asio::awaitable<bool> {
    bool other = false;
    Loop::current().call_soon([&] { other = true; });
    co_await loopvisor::sleep(0ms);
    co_return other;
  });
  EXPECT_TRUE(ran);
}

TEST(Sleep, CancelledSleepRaisesCancelledErrorAndTheTaskEndsCancelled) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool saw_cancelled_error = false;
    auto t = create_task([](bool* saw) -> asio::awaitable<void> {
      try {
        co_await loopvisor::sleep(10s);
      } catch (const CancelledError&) {
        *saw = true;
        throw;
      }
    }(&saw_cancelled_error));
    co_await loopvisor::sleep(1ms);
    t.cancel();
    EXPECT_THROW(co_await t.async_wait(), CancelledError);
    EXPECT_TRUE(saw_cancelled_error);
    EXPECT_TRUE(t.cancelled());
  });
}

// asyncio: a cancel() that finds the sleep's future already done still raises CancelledError
// at the await (the task's _must_cancel). Here the canceller's timer and the sleeper's both
// expire while the loop is held, so the sleeper's timer has completed, but the sleeper has not
// resumed, when the cancel arrives.
TEST(Sleep, ACancelAfterTheDelayPassedButBeforeTheSleeperResumedRaisesCancelledError) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto sleeper = create_task([]() -> asio::awaitable<int> {
      co_await loopvisor::sleep(50ms);
      co_return 1;
    }());
    auto canceller = create_task([](Task<int> s) -> asio::awaitable<void> {
      co_await loopvisor::sleep(5ms);
      s.cancel("late cancel");
    }(sleeper));
    co_await loopvisor::sleep(0ms);  // both have started and their timers are armed
    const auto armed = std::chrono::steady_clock::now();
    // Hold the loop past both deadlines: the two timers then complete in one reactor pass,
    // the canceller's (earlier) first.
    while (std::chrono::steady_clock::now() < armed + 80ms) std::this_thread::sleep_for(5ms);
    co_await canceller;
    try {
      (void)co_await sleeper;
      ADD_FAILURE() << "the sleeper returned although it was cancelled";
    } catch (const CancelledError& e) {
      EXPECT_STREQ(e.what(), "late cancel");
    }
    EXPECT_TRUE(sleeper.cancelled());
  });
}

TEST(Sleep, ZeroCancelledWhileQueuedRaisesCancelledError) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool resumed = false;
    auto yielder = create_task([](bool* r) -> asio::awaitable<void> {
      co_await loopvisor::sleep(0ms);
      *r = true;
    }(&resumed));
    co_await loopvisor::sleep(0ms);  // the yielder has started and its resumption is queued
    yielder.cancel();
    EXPECT_THROW(co_await yielder, CancelledError);
    EXPECT_FALSE(resumed);
  });
}

// A cancelled sleep leaves nothing behind in the task (a slot handler pointing at a finished
// wait): the same coroutine sleeps again, and the next cancel reaches the new sleep.
TEST(Sleep, ACoroutineSleepsAgainAfterACancelledSleep) {
  run_on_loop([]() -> asio::awaitable<void> {
    int cancels = 0;
    auto t = create_task([](int* n) -> asio::awaitable<void> {
      for (;;) {
        try {
          co_await loopvisor::sleep(10s);
        } catch (const CancelledError&) {
          if (++*n == 3) throw;
          current_task().uncancel();
        }
        // Cancellation is sticky (asyncio-to-loopvisor.md): awaiting on needs a fresh state.
        co_await asio::this_coro::reset_cancellation_state();
      }
    }(&cancels));
    for (int i = 1; i <= 3; ++i) {
      co_await until([&] { return t.status() == TaskStatus::running; });
      co_await loopvisor::sleep(1ms);
      t.cancel();
      co_await until([&, i] { return cancels == i; });
    }
    EXPECT_THROW(co_await t, CancelledError);
  });
}

// Coroutines on a bare io_context (the timer on its executor) and on another execution
// context (a thread pool: the wait lives on the heap) sleep too.
asio::awaitable<int> sleep_then_return(int v) {
  co_await loopvisor::sleep(2ms);
  co_await loopvisor::sleep(0ms);
  co_return v;
}

TEST(Sleep, WorksInACoroutineOnAnyExecutor) {
  asio::io_context io;
  auto on_io = asio::co_spawn(io, sleep_then_return(7), asio::use_future);
  io.run();
  EXPECT_EQ(on_io.get(), 7);

  asio::thread_pool pool(1);
  auto on_pool = asio::co_spawn(pool, sleep_then_return(8), asio::use_future);
  ASSERT_EQ(on_pool.wait_for(bound), std::future_status::ready);
  EXPECT_EQ(on_pool.get(), 8);
  pool.join();
}

// sleep() is an Asio asynchronous operation: other completion tokens work, and a cancel
// through the token's slot ends the sleep with CancelledError.
TEST(Sleep, WorksWithOtherCompletionTokensAndTheirCancellationSlots) {
  LoopThread lt;
  auto done = loopvisor::sleep(2ms)(asio::use_future);
  ASSERT_EQ(done.wait_for(bound), std::future_status::ready);
  EXPECT_NO_THROW(done.get());

  std::promise<std::exception_ptr> outcome;
  asio::cancellation_signal signal;
  lt->submit([&] {
      loopvisor::sleep(10s)(asio::bind_cancellation_slot(
          signal.slot(),
          asio::bind_executor(lt->get_executor(), [&](std::exception_ptr e) { outcome.set_value(e); })));
    }).get(bound);
  lt->submit([&] { signal.emit(asio::cancellation_type::terminal); }).get(bound);
  auto result = outcome.get_future();
  ASSERT_EQ(result.wait_for(bound), std::future_status::ready);
  const auto e = result.get();
  ASSERT_TRUE(e);
  EXPECT_THROW(std::rethrow_exception(e), CancelledError);
}

// Where asyncio takes `asyncio.sleep(d)` as an awaitable: gather and wait take it as it is; a
// task or a vector of awaitables takes it converted.
TEST(Sleep, IsAcceptedWhereAnAwaitableIs) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto [slept, value] = co_await gather(loopvisor::sleep(1ms), value_after(1ms, 3));
    (void)slept;
    EXPECT_EQ(value, 3);
    auto t = create_task(asio::awaitable<void>(loopvisor::sleep(1ms)));
    co_await t;
    EXPECT_TRUE(t.done());
    std::vector<asio::awaitable<void>> sleeps;
    sleeps.push_back(loopvisor::sleep(1ms));
    sleeps.push_back(loopvisor::sleep(0ms));
    co_await gather(std::move(sleeps));
  });
}

// A lazy token starts the wait after the Sleep object is gone (here, a statement later): the
// wait must not live in that object. ASan sees a use after free if it does.
TEST(Sleep, ALazyTokenStartsItsWaitAfterTheSleepObjectIsGone) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto later = loopvisor::sleep(2ms)(asio::deferred);
    co_await std::move(later);
    auto yield_later = loopvisor::sleep(0ms)(asio::deferred);
    co_await std::move(yield_later);
  });
}

TEST(Sleep, ASleepObjectAwaitedTwiceRaisesInvalidStateError) {
  run_on_loop([]() -> asio::awaitable<void> {
    Sleep once = loopvisor::sleep(1ms);
    co_await std::move(once);
    EXPECT_THROW(co_await std::move(once), InvalidStateError);
    EXPECT_THROW((void)std::move(once).as_awaitable(), InvalidStateError);
    Sleep yielded = loopvisor::sleep(0ms);
    co_await std::move(yielded);
    EXPECT_THROW(co_await std::move(yielded), InvalidStateError);
  });
}

// A sleep whose loop goes away while it waits never completes, and leaves nothing behind in the
// caller's cancellation slot: emitting on it afterwards reaches no freed wait (ASan).
TEST(Sleep, ASleepPendingWhenItsLoopClosesLeavesTheCallersSlotEmpty) {
  asio::cancellation_signal signal;
  bool completed = false;
  {
    LoopThread lt;
    lt->submit([&] {
        loopvisor::sleep(10s)(asio::bind_cancellation_slot(
            signal.slot(),
            asio::bind_executor(lt->get_executor(), [&](std::exception_ptr) { completed = true; })));
      }).get(bound);
    EXPECT_TRUE(signal.slot().has_handler());
  }
  EXPECT_FALSE(completed);
  EXPECT_FALSE(signal.slot().has_handler());
  signal.emit(asio::cancellation_type::terminal);
}

}  // namespace
}  // namespace loopvisor::test
