// sleep: waits its delay, sleep(0) yields to queued work, cancellation raises CancelledError.
#include "loopvisor/sleep.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace loopvisor::test
