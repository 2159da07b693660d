// Lock: mutual exclusion, FIFO hand-over, cancelled waiters never take the lock.
#include "loopvisor/sync/lock.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<void> hold(Lock* lock, std::vector<int>* order, int id) {
  auto guard = co_await lock->scoped();
  order->push_back(id);
  co_await loopvisor::sleep(1ms);
}

TEST(Lock, WaitersGetTheLockInArrivalOrder) {
  auto order = run_on_loop([]() -> asio::awaitable<std::vector<int>> {
    Lock lock;
    std::vector<int> order;
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(create_task(hold(&lock, &order, i)));
    for (auto& t : tasks) co_await t.async_wait();
    EXPECT_FALSE(lock.locked());
    co_return order;
  });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Lock, CancelledWaiterNeverTakesTheLockAndTheNextOneDoes) {
  run_on_loop([]() -> asio::awaitable<void> {
    Lock lock;
    co_await lock.acquire();
    std::vector<int> order;
    auto b = create_task(hold(&lock, &order, 1));
    auto c = create_task(hold(&lock, &order, 2));
    co_await until([&] { return lock.waiters() == 2; });
    b.cancel();
    EXPECT_THROW(co_await b.async_wait(), CancelledError);
    EXPECT_EQ(lock.waiters(), 1u);
    lock.release();
    co_await c.async_wait();
    EXPECT_EQ(order, (std::vector<int>{2}));
    EXPECT_FALSE(lock.locked());
  });
}

TEST(Lock, ReleasingAnUnheldLockIsAClearError) {
  run_on_loop([]() -> asio::awaitable<void> {
    Lock lock;
    EXPECT_THROW(lock.release(), InvalidStateError);
    co_return;
  });
}

TEST(Lock, AGuardWhoseLockWasReleasedByHandReportsInsteadOfThrowing) {
  std::atomic<int> reports{0};
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext& c) {
    EXPECT_NE(c.message.find("already released"), std::string::npos) << c.message;
    ++reports;
  };
  run_on_loop(
      []() -> asio::awaitable<void> {
        Lock lock;
        {
          auto guard = co_await lock.scoped();
          lock.release();  // misuse: the guard still thinks it owns the lock
        }
        EXPECT_FALSE(lock.locked());
      },
      options);
  EXPECT_EQ(reports.load(), 1);
}

}  // namespace
}  // namespace loopvisor::test
