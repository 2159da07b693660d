// Gate: enter/leave, close waits for holders, GateClosed after close, with_gate.
#include "loopvisor/sync/gate.hpp"

#include <gtest/gtest.h>

#include "loopvisor/sync/event.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<void> hold_until(Gate::Holder in, Event* release) {
  co_await release->wait();
  (void)in;
}

TEST(Gate, CloseRefusesNewEntriesAndWaitsForThoseInside) {
  run_on_loop([]() -> asio::awaitable<void> {
    Gate gate;
    Event release;
    auto a = create_task(hold_until(gate.enter(), &release));
    auto b = create_task(hold_until(gate.enter(), &release));
    EXPECT_EQ(gate.count(), 2u);
    auto closing = create_task(gate.close());
    co_await until([&] { return gate.is_closed(); });
    EXPECT_THROW((void)gate.enter(), GateClosed);
    EXPECT_FALSE(gate.try_enter().has_value());
    EXPECT_FALSE(closing.done()) << "two operations are still inside";
    release.set();
    co_await closing;
    EXPECT_EQ(gate.count(), 0u);
    co_await a;
    co_await b;
  });
}

TEST(Gate, CloseOfAnEmptyGateReturnsAtOnceAndASecondCloseIsAnError) {
  run_on_loop([]() -> asio::awaitable<void> {
    Gate gate;
    { auto in = gate.enter(); }
    co_await gate.close();
    EXPECT_THROW(co_await gate.close(), InvalidStateError);
  });
}

TEST(Gate, HoldersLeaveOnMoveAndEarlyLeaveAndMayOutliveTheGate) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::optional<Gate::Holder> kept;
    {
      Gate gate;
      auto first = gate.enter();
      auto second = std::move(first);
      EXPECT_EQ(gate.count(), 1u) << "a move is not a second entry";
      second.leave();
      second.leave();
      EXPECT_EQ(gate.count(), 0u);
      kept.emplace(gate.enter());
    }
    kept.reset();  // the gate is gone; its state is not
    co_return;
  });
}

TEST(Gate, CancellingTheCloserLeavesTheGateClosed) {
  run_on_loop([]() -> asio::awaitable<void> {
    Gate gate;
    auto in = gate.enter();
    auto closing = create_task(gate.close());
    co_await until([&] { return closing.status() == TaskStatus::running; });
    closing.cancel();
    EXPECT_THROW(co_await closing, CancelledError);
    EXPECT_TRUE(gate.is_closed());
    EXPECT_THROW((void)gate.enter(), GateClosed);
  });
}

TEST(Gate, WithGateRunsInsideOrRefusesWithoutCalling) {
  run_on_loop([]() -> asio::awaitable<void> {
    Gate gate;
    const int v = co_await with_gate(gate, [&]() -> asio::awaitable<int> {
      EXPECT_EQ(gate.count(), 1u);
      co_return 4;
    });
    EXPECT_EQ(v, 4);
    EXPECT_EQ(gate.count(), 0u);
    co_await gate.close();
    bool called = false;
    EXPECT_THROW(co_await with_gate(gate,
                                    [&]() -> asio::awaitable<void> {
                                      called = true;
                                      co_return;
                                    }),
                 GateClosed);
    EXPECT_FALSE(called);
  });
}

}  // namespace
}  // namespace loopvisor::test
