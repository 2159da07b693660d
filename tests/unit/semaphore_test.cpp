// Semaphore and BoundedSemaphore: permits, FIFO, cancelled waiters never take a permit.
#include "loopvisor/sync/semaphore.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<void> use_permit(Semaphore* sem, int* inside, int* max_inside) {
  co_await sem->acquire();
  *max_inside = std::max(*max_inside, ++*inside);
  co_await loopvisor::sleep(2ms);
  --*inside;
  sem->release();
}

TEST(Semaphore, AtMostValueHoldersAtOnce) {
  auto max_inside = run_on_loop([]() -> asio::awaitable<int> {
    Semaphore sem(2);
    int inside = 0, max_inside = 0;
    std::vector<Task<void>> tasks;
    for (int i = 0; i < 6; ++i) tasks.push_back(create_task(use_permit(&sem, &inside, &max_inside)));
    for (auto& t : tasks) co_await t.async_wait();
    EXPECT_EQ(sem.value(), 2u);
    co_return max_inside;
  });
  EXPECT_EQ(max_inside, 2);
}

asio::awaitable<int> take(Semaphore* sem, int id) {
  co_await sem->acquire();
  co_return id;
}

TEST(Semaphore, CancelledWaiterNeverSwallowsAPermit) {
  run_on_loop([]() -> asio::awaitable<void> {
    Semaphore sem(0);
    auto first = create_task(take(&sem, 1));
    auto second = create_task(take(&sem, 2));
    co_await until([&] { return sem.waiters() == 2; });
    first.cancel();
    EXPECT_THROW((void)co_await first.async_wait(), CancelledError);
    sem.release();
    EXPECT_EQ(co_await second.async_wait(), 2);
    EXPECT_EQ(sem.value(), 0u) << "the one permit went to the live waiter";
  });
}

TEST(BoundedSemaphore, ReleasingTooManyTimesIsAnError) {
  run_on_loop([]() -> asio::awaitable<void> {
    BoundedSemaphore sem(1);
    co_await sem.acquire();
    sem.release();
    EXPECT_THROW(sem.release(), InvalidStateError);
    EXPECT_EQ(sem.value(), 1u);
  });
}

TEST(Semaphore, ANegativeInitialValueIsInvalidArgument) {
  EXPECT_THROW(Semaphore(-1), std::invalid_argument);
  EXPECT_THROW(BoundedSemaphore(-5), std::invalid_argument);
  EXPECT_THROW(Semaphore(std::numeric_limits<std::int64_t>::min()), std::invalid_argument);
  Semaphore zero(0);
  EXPECT_TRUE(zero.locked());
}

TEST(Semaphore, AHugeUnsignedValueThatWrapsNegativeIsRefused) {
  const std::size_t wrapped = static_cast<std::size_t>(-1);  // what Semaphore(-1) used to become
  EXPECT_THROW(Semaphore(static_cast<std::int64_t>(wrapped)), std::invalid_argument);
}

}  // namespace
}  // namespace loopvisor::test
