// Event: set wakes every waiter, wait after set returns at once, cancelled waiters are gone.
#include "loopvisor/sync/event.hpp"

#include <gtest/gtest.h>

#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<int> wait_then(Event* e, int v) {
  co_await e->wait();
  co_return v;
}

TEST(Event, SetWakesEveryWaiter) {
  run_on_loop([]() -> asio::awaitable<void> {
    Event e;
    auto a = create_task(wait_then(&e, 1));
    auto b = create_task(wait_then(&e, 2));
    co_await until([&] { return e.waiters() == 2; });
    EXPECT_FALSE(a.done());
    e.set();
    EXPECT_EQ(co_await a.async_wait(), 1);
    EXPECT_EQ(co_await b.async_wait(), 2);
  });
}

TEST(Event, WaitAfterSetReturnsAtOnceUntilCleared) {
  run_on_loop([]() -> asio::awaitable<void> {
    Event e;
    e.set();
    co_await e.wait();
    EXPECT_TRUE(e.is_set());
    e.clear();
    auto t = create_task(wait_then(&e, 3));
    co_await loopvisor::sleep(2ms);
    EXPECT_FALSE(t.done());
    e.set();
    EXPECT_EQ(co_await t.async_wait(), 3);
  });
}

TEST(Event, CancelledWaiterLeavesAndOthersStillWake) {
  run_on_loop([]() -> asio::awaitable<void> {
    Event e;
    auto gone = create_task(wait_then(&e, 1));
    auto stays = create_task(wait_then(&e, 2));
    co_await until([&] { return e.waiters() == 2; });
    gone.cancel();
    EXPECT_THROW((void)co_await gone.async_wait(), CancelledError);
    EXPECT_EQ(e.waiters(), 1u);
    e.set();
    EXPECT_EQ(co_await stays.async_wait(), 2);
  });
}

}  // namespace
}  // namespace loopvisor::test
