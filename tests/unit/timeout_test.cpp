// Timeout scopes: expiry, rescheduling from inside, nesting as in asyncio 3.11+.
#include "loopvisor/timeout.hpp"

#include <gtest/gtest.h>

#include "loopvisor/sleep.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

TEST(Timeout, BodyFinishingInTimeReturnsItsValue) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto scope = timeout(5s);
    EXPECT_EQ(co_await scope.run(value_after(1ms, 3)), 3);
    EXPECT_FALSE(scope.expired());
  });
}

TEST(Timeout, ExpiryCancelsTheBodyAndRaisesTimeoutError) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto scope = timeout(5ms);
    EXPECT_THROW((void)co_await scope.run(value_after(10s, 0)), TimeoutError);
    EXPECT_TRUE(scope.expired());
  });
}

asio::awaitable<int> extend_then_finish(Timeout* scope) {
  co_await loopvisor::sleep(2ms);
  scope->reschedule(std::chrono::steady_clock::now() + 10s);  // needs more time: push the deadline
  co_await loopvisor::sleep(20ms);
  co_return 8;
}

TEST(Timeout, RescheduleFromInsideTheBodyMovesTheDeadline) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto scope = timeout(10ms);
    EXPECT_EQ(co_await scope.run(extend_then_finish(&scope)), 8);
    EXPECT_FALSE(scope.expired());
  });
}

TEST(Timeout, NoDeadlineUntilRescheduled) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto scope = timeout_at(std::nullopt);
    Loop::current().call_later(2ms, [&scope] { scope.reschedule(std::chrono::steady_clock::now()); });
    EXPECT_THROW((void)co_await scope.run(value_after(10s, 0)), TimeoutError);
  });
}

asio::awaitable<int> inner_scope(std::chrono::milliseconds limit, std::chrono::milliseconds work,
                                 bool* inner_expired) {
  auto inner = timeout(limit);
  try {
    co_return co_await inner.run(value_after(work, 1));
  } catch (const TimeoutError&) {
    *inner_expired = inner.expired();
    throw;
  }
}

TEST(Timeout, InnerExpiryIsTheInnerScopesTimeoutError) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool inner_expired = false;
    auto outer = timeout(10s);
    EXPECT_THROW((void)co_await outer.run(inner_scope(5ms, 10s, &inner_expired)), TimeoutError);
    EXPECT_TRUE(inner_expired);
    EXPECT_FALSE(outer.expired());
  });
}

TEST(Timeout, OuterExpiryCancelsTheInnerAndIsTheOutersTimeoutError) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool inner_expired = false;
    auto outer = timeout(5ms);
    EXPECT_THROW((void)co_await outer.run(inner_scope(10s, 10s, &inner_expired)), TimeoutError);
    EXPECT_TRUE(outer.expired());
    EXPECT_FALSE(inner_expired) << "the inner scope saw a cancellation, not its own expiry";
  });
}

}  // namespace
}  // namespace loopvisor::test
