// Condition: notify wakes waiters oldest first, the lock is re-held, cancelled waiters skip.
#include "loopvisor/sync/condition.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace loopvisor::test
