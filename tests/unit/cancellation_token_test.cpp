// CancellationToken: cancels every attached task (any loop), later attachments at once, children.
#include "loopvisor/cancellation_token.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "loopvisor/supervisor.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<int> sleeper_attached(CancellationToken token) {
  token.attach(current_task());
  co_await loopvisor::sleep(std::chrono::seconds(30));
  co_return 1;
}

TEST(CancellationToken, CancelReachesEveryAttachedTaskOnEveryLoop) {
  Supervisor sup(SupervisorOptions{.loops = 2});
  CancellationToken token;
  std::vector<ThreadFuture<int>> futures;
  for (std::size_t i = 0; i < 4; ++i)
    futures.push_back(sup.loop(i % 2).run_coroutine_threadsafe(sleeper_attached(token)));
  ASSERT_TRUE(eventually(
      [&] { return sup.loop(0).stats().tasks_active == 2 && sup.loop(1).stats().tasks_active == 2; }));
  // Attached happens in the task's first step, which has run once the task is active and
  // suspended; wait for the attachments through the loops' queues.
  for (std::size_t i = 0; i < 2; ++i) sup.loop(i).submit([] {}).get(bound);
  EXPECT_TRUE(token.cancel("shutting down"));
  EXPECT_FALSE(token.cancel()) << "a second cancel changes nothing";
  // The futures say only "cancelled" (asyncio's concurrent future carries no message either).
  for (auto& f : futures) EXPECT_THROW((void)f.get(bound), CancelledError);
  EXPECT_EQ(token.message(), "shutting down");
}

TEST(CancellationToken, ATaskAttachedAfterCancelIsCancelledAtOnce) {
  run_on_loop([]() -> asio::awaitable<void> {
    CancellationToken token;
    token.cancel();
    auto t = create_task(value_after(10s, 1));
    token.attach(t);
    EXPECT_THROW((void)co_await t, CancelledError);
    EXPECT_THROW(token.attach(AnyTask()), InvalidStateError);
  });
}

TEST(CancellationToken, AChildFollowsItsParentButNotTheOtherWayRound) {
  run_on_loop([]() -> asio::awaitable<void> {
    CancellationToken parent;
    auto child = parent.child();
    auto grandchild = child.child();
    auto a = create_task(value_after(10s, 1));
    auto b = create_task(value_after(10s, 2));
    parent.attach(a);
    grandchild.attach(b);
    EXPECT_TRUE(child.cancel("subtree done"));
    try {
      (void)co_await b;
      ADD_FAILURE() << "the grandchild's task was not cancelled";
    } catch (const CancelledError& e) {
      EXPECT_STREQ(e.what(), "subtree done") << "the message reaches the task";
    }
    EXPECT_FALSE(parent.cancelled());
    EXPECT_FALSE(a.done());
    parent.cancel();
    EXPECT_THROW((void)co_await a, CancelledError);
    EXPECT_TRUE(parent.child().cancelled()) << "a child of a cancelled token starts cancelled";
  });
}

TEST(CancellationToken, HoldsTasksWeaklyAndFinishedTasksAreLeftAlone) {
  run_on_loop([]() -> asio::awaitable<void> {
    CancellationToken token;
    auto done = create_task(value_after(0ms, 5));
    token.attach(done);
    co_await done;
    {
      auto gone = create_task(value_after(0ms, 6));
      token.attach(gone);
      co_await gone;
    }
    EXPECT_TRUE(token.cancel());
    EXPECT_EQ(done.result(), 5) << "a finished task keeps its result";
  });
}

TEST(CancellationToken, AttachingRacingACancelNeverLeavesATaskRunning) {
  Supervisor sup(SupervisorOptions{.loops = 2});
  CancellationToken token;
  std::vector<std::thread> starters;
  std::mutex mu;
  std::vector<ThreadFuture<int>> futures;
  for (int t = 0; t < 3; ++t) {
    starters.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        auto f = sup.loop((t + i) % 2).run_coroutine_threadsafe(sleeper_attached(token));
        std::lock_guard g(mu);
        futures.push_back(std::move(f));
      }
    });
  }
  std::thread canceller([&] { token.cancel("race"); });
  for (auto& s : starters) s.join();
  canceller.join();
  // Whether a task attached before or after the cancel, it ends cancelled: none sleeps on.
  for (auto& f : futures) EXPECT_THROW((void)f.get(bound), CancelledError);
}

}  // namespace
}  // namespace loopvisor::test
