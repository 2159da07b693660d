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

// Sleeps until cancelled, then spends two more steps unwinding (cleanup that awaits) before
// it lets the cancellation out; `unwound` is set at the very end.
asio::awaitable<int> slow_to_unwind(bool* unwound) {
  bool cancelled = false;
  try {
    co_await loopvisor::sleep(10s);
  } catch (const CancelledError&) {
    cancelled = true;
  }
  if (cancelled) {
    co_await asio::this_coro::reset_cancellation_state();
    co_await loopvisor::sleep(2ms);
    *unwound = true;
    throw CancelledError("unwound");
  }
  co_return 0;
}

asio::awaitable<int> run_in_scope(bool* unwound) {
  co_return co_await timeout(10s).run(slow_to_unwind(unwound));
}

TEST(Timeout, CancellingTheAwaiterReturnsOnlyAfterTheBodyHasUnwound) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool unwound = false;
    auto outer = create_task(run_in_scope(&unwound));
    co_await yield_now();
    co_await yield_now();
    EXPECT_TRUE(outer.cancel());
    EXPECT_THROW((void)co_await outer.async_wait(), CancelledError);
    EXPECT_TRUE(unwound) << "the scope let the cancellation out before its body finished unwinding";
  });
}

TEST(Timeout, ExpiryRaisesOnlyAfterTheBodyHasUnwoundAndCarriesItsCancelledError) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool unwound = false;
    try {
      (void)co_await timeout(1ms).run(slow_to_unwind(&unwound));
      ADD_FAILURE() << "no TimeoutError";
    } catch (const TimeoutError& e) {
      EXPECT_TRUE(unwound);
      CO_ASSERT_TRUE(e.cause() != nullptr);
      EXPECT_THROW(std::rethrow_exception(e.cause()), CancelledError);
    }
  });
}

TEST(Timeout, RescheduleBeforeEnteringIsAClearError) {
  auto scope = timeout(1s);
  EXPECT_THROW(scope.reschedule(std::nullopt), InvalidStateError);
}

TEST(Timeout, RescheduleAfterLeavingIsAClearError) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto scope = timeout(1s);
    EXPECT_EQ(co_await scope.run(value_after(0ms, 2)), 2);
    EXPECT_THROW(scope.reschedule(std::nullopt), InvalidStateError);
  });
}

TEST(Timeout, EnteringAScopeTwiceIsAClearError) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto scope = timeout(1s);
    EXPECT_EQ(co_await scope.run(value_after(0ms, 2)), 2);
    EXPECT_THROW((void)co_await scope.run(value_after(0ms, 3)), InvalidStateError);
  });
}

asio::awaitable<int> nested_inner_expires(bool* inner_expired) {
  auto inner = timeout(1ms);
  try {
    co_return co_await inner.run(value_after(10s, 1));
  } catch (const TimeoutError&) {
    *inner_expired = inner.expired();
    throw;
  }
}

TEST(Timeout, ANestedScopeExpiringInsideAnOuterOneRaisesTheInnerTimeoutError) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool inner_expired = false;
    auto outer = timeout(10s);
    try {
      (void)co_await outer.run(nested_inner_expires(&inner_expired));
      ADD_FAILURE() << "no error";
    } catch (const TimeoutError&) {
    } catch (const CancelledError&) {
      ADD_FAILURE() << "the inner expiry came out as CancelledError";
    }
    EXPECT_TRUE(inner_expired);
    EXPECT_FALSE(outer.expired());
  });
}

}  // namespace
}  // namespace loopvisor::test
