// Condition: notify wakes waiters oldest first, the lock is re-held, cancelled waiters skip.
#include "loopvisor/sync/condition.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<int> wait_for_ready(Condition* cond, bool* ready, int id) {
  auto guard = co_await cond->lock().scoped();
  co_await cond->wait_for([ready] { return *ready; });
  EXPECT_TRUE(cond->lock().locked()) << "the lock is held again after wait";
  co_return id;
}

TEST(Condition, NotifyAllWakesEveryWaiterWithTheLockHeld) {
  run_on_loop([]() -> asio::awaitable<void> {
    Lock lock;
    Condition cond(lock);
    bool ready = false;
    auto a = create_task(wait_for_ready(&cond, &ready, 1));
    auto b = create_task(wait_for_ready(&cond, &ready, 2));
    co_await loopvisor::sleep(2ms);
    {
      auto guard = co_await lock.scoped();
      ready = true;
      cond.notify_all();
    }
    EXPECT_EQ(co_await a.async_wait() + co_await b.async_wait(), 3);
    EXPECT_FALSE(lock.locked());
  });
}

asio::awaitable<int> wait_once(Condition* cond, int id) {
  auto guard = co_await cond->lock().scoped();
  co_await cond->wait();
  co_return id;
}

TEST(Condition, CancelledWaiterDoesNotSwallowANotify) {
  run_on_loop([]() -> asio::awaitable<void> {
    Lock lock;
    Condition cond(lock);
    auto first = create_task(wait_once(&cond, 1));
    auto second = create_task(wait_once(&cond, 2));
    co_await loopvisor::sleep(2ms);
    first.cancel();
    EXPECT_THROW((void)co_await first.async_wait(), CancelledError);
    EXPECT_FALSE(lock.locked()) << "the cancelled waiter re-took the lock and its guard released it";
    {
      auto guard = co_await lock.scoped();
      cond.notify(1);
    }
    EXPECT_EQ(co_await second.async_wait(), 2);
  });
}

TEST(Condition, WaitWithoutTheLockIsAClearError) {
  run_on_loop([]() -> asio::awaitable<void> {
    Lock lock;
    Condition cond(lock);
    EXPECT_THROW(co_await cond.wait(), InvalidStateError);
    EXPECT_THROW(cond.notify(), InvalidStateError);
  });
}

// Records whether the lock was held when the cancellation reached the waiter.
asio::awaitable<void> wait_and_record(Condition* cond, bool* held_when_cancelled) {
  auto guard = co_await cond->lock().scoped();
  try {
    co_await cond->wait();
  } catch (const CancelledError&) {
    *held_when_cancelled = cond->lock().locked();
    throw;
  }
}

TEST(Condition, CancelRightAfterNotifyStillReturnsWithTheLockHeld) {
  std::atomic<int> reports{0};
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext&) { ++reports; };
  run_on_loop(
      []() -> asio::awaitable<void> {
        Lock lock;
        Condition cond(lock);
        bool held = false;
        auto waiter = create_task(wait_and_record(&cond, &held));
        while (waiter.status() == TaskStatus::pending || lock.locked()) co_await yield_now();
        co_await lock.acquire();
        cond.notify();  // the waiter's wake-up is queued...
        lock.release();
        EXPECT_TRUE(waiter.cancel());  // ...and the cancel lands before it runs
        EXPECT_THROW(co_await waiter.async_wait(), CancelledError);
        EXPECT_TRUE(held) << "Condition::wait() returned without re-acquiring the lock";
        EXPECT_FALSE(lock.locked()) << "the waiter's guard released the lock";
      },
      options);
  EXPECT_EQ(reports.load(), 0);
}

TEST(Condition, CancelWhileReacquiringStillReturnsWithTheLockHeldThenRaises) {
  run_on_loop([]() -> asio::awaitable<void> {
    Lock lock;
    Condition cond(lock);
    bool held = false;
    auto waiter = create_task(wait_and_record(&cond, &held));
    while (waiter.status() == TaskStatus::pending || lock.locked()) co_await yield_now();
    co_await lock.acquire();
    cond.notify();
    co_await yield_now();
    co_await yield_now();  // the waiter now waits to re-acquire the lock we hold
    EXPECT_TRUE(waiter.cancel());
    co_await yield_now();
    EXPECT_FALSE(waiter.done()) << "the waiter gave up re-acquiring";
    lock.release();
    EXPECT_THROW(co_await waiter.async_wait(), CancelledError);
    EXPECT_TRUE(held);
    EXPECT_FALSE(lock.locked());
  });
}

}  // namespace
}  // namespace loopvisor::test
