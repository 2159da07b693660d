// as_completed: results in completion order, exceptions in place, overall timeout.
#include "loopvisor/as_completed.hpp"

#include <gtest/gtest.h>

#include "loopvisor/future.hpp"
#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

TEST(AsCompleted, YieldsResultsInTheOrderTasksFinish) {
  auto order = run_on_loop([]() -> asio::awaitable<std::vector<int>> {
    // Scenario 4: tasks of 5, 3 and 4 (tens of ms here) finish as 3, 4, 5.
    std::vector<Task<int>> tasks{create_task(value_after(50ms, 5)), create_task(value_after(30ms, 3)),
                                 create_task(value_after(40ms, 4))};
    std::vector<int> seen;
    auto it = as_completed(tasks);
    while (!it.empty()) seen.push_back(co_await it.next());
    co_return seen;
  });
  EXPECT_EQ(order, (std::vector<int>{3, 4, 5}));
}

asio::awaitable<int> value_of(Future<int> f) { co_return co_await f; }

TEST(AsCompleted, AcceptsAwaitablesAndYieldsInTheOrderTheyEnd) {
  auto order = run_on_loop([]() -> asio::awaitable<std::vector<int>> {
    std::vector<Future<int>> gates(3);
    std::vector<asio::awaitable<int>> coros;
    for (auto& g : gates) coros.push_back(value_of(g));
    auto it = as_completed(std::move(coros));
    std::vector<int> seen;
    gates[2].set_result(2);
    seen.push_back(co_await it.next());
    gates[0].set_result(0);
    gates[1].set_result(1);
    while (!it.empty()) seen.push_back(co_await it.next());
    co_return seen;
  });
  EXPECT_EQ(order, (std::vector<int>{2, 0, 1}));
}

TEST(AsCompleted, ExceptionComesOutInItsTurn) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto failing = [](std::chrono::milliseconds d) -> asio::awaitable<int> {
      co_await loopvisor::sleep(d);
      throw std::runtime_error("late");
    };
    std::vector<Task<int>> tasks{create_task(failing(10ms)), create_task(value_after(1ms, 1))};
    auto it = as_completed(tasks);
    EXPECT_EQ(co_await it.next(), 1);
    EXPECT_THROW((void)co_await it.next(), std::runtime_error);
    EXPECT_TRUE(it.empty());
  });
}

TEST(AsCompleted, TimeoutRaisesForWhatIsLeftWithoutCancellingIt) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto slow = create_task(value_after(50ms, 2));
    std::vector<Task<int>> tasks{create_task(value_after(1ms, 1)), slow};
    auto it = as_completed(tasks, 10ms);
    EXPECT_EQ(co_await it.next(), 1);
    EXPECT_THROW((void)co_await it.next(), TimeoutError);
    EXPECT_TRUE(it.empty());
    EXPECT_EQ(co_await slow.async_wait(), 2) << "not cancelled";
  });
}

asio::awaitable<int> first_of(AsCompleted<int>* it) { co_return co_await it->next(); }

TEST(AsCompleted, CancellingTheWaiterLeavesTheTasksRunning) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto slow = create_task(value_after(20ms, 1));
    auto it = as_completed(std::vector<Task<int>>{slow});
    auto waiter = create_task(first_of(&it));
    co_await loopvisor::sleep(1ms);
    waiter.cancel();
    EXPECT_THROW((void)co_await waiter.async_wait(), CancelledError);
    EXPECT_EQ(co_await slow.async_wait(), 1) << "not cancelled";
  });
}

TEST(AsCompleted, ATaskGivenTwiceIsYieldedOnce) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto c = create_task(value_after(0ms, 1));
    auto d = create_task(value_after(2ms, 2));
    auto it = as_completed(std::vector<Task<int>>{c, c, d});
    EXPECT_EQ(it.remaining(), 2u);
    std::vector<int> got;
    while (!it.empty()) got.push_back(co_await it.next());
    EXPECT_EQ(got, (std::vector<int>{1, 2}));
  });
}

}  // namespace
}  // namespace loopvisor::test
