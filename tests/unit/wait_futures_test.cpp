// wait_futures / wait_all / wait_any: a plain thread waiting on many ThreadFutures.
#include "loopvisor/wait_futures.hpp"

#include <gtest/gtest.h>

#include "loopvisor/future.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

/// A coroutine that ends when `gate` (a Future on the same loop) is set.
asio::awaitable<int> when_set(Future<int> gate) { co_return co_await gate; }

/// Futures whose coroutines end only when the test opens their gates (no timing involved).
struct Gated {
  LoopThread lt;
  std::vector<Future<int>> gates;
  std::vector<ThreadFuture<int>> futures;

  explicit Gated(int n) {
    for (int i = 0; i < n; ++i) {
      gates.push_back(lt->submit([] { return Future<int>(); }).get(bound));
      futures.push_back(lt->run_coroutine_threadsafe(when_set(gates.back())));
    }
  }
  void open(std::size_t i, int value) {
    lt->submit([g = gates[i], value]() mutable { g.set_result(value); }).get(bound);
  }
  void fail(std::size_t i) {
    lt->submit([g = gates[i]]() mutable {
        g.set_exception(std::make_exception_ptr(std::runtime_error("gate")));
      }).get(bound);
  }
};

TEST(WaitFutures, WaitAnyReturnsWhenOneEndsAndCancelsNothing) {
  Gated g(3);
  g.open(1, 11);
  auto r = wait_any(g.futures, bound);
  ASSERT_EQ(r.done.size(), 1u);
  EXPECT_EQ(r.done[0].get(), 11);
  EXPECT_EQ(r.not_done.size(), 2u);
  for (auto& f : r.not_done) EXPECT_FALSE(f.done()) << "waiting cancels nothing";
  g.open(0, 0);
  g.open(2, 2);
}

TEST(WaitFutures, WaitAllWaitsForEveryFutureInTheOrderGiven) {
  Gated g(3);
  std::thread opener([&] {
    g.open(2, 2);
    g.open(0, 0);
    g.open(1, 1);
  });
  auto r = wait_all(g.futures, bound);
  opener.join();
  ASSERT_EQ(r.done.size(), 3u);
  EXPECT_TRUE(r.not_done.empty());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.done[i].get(), i) << "the order given, not the order of ending";
}

TEST(WaitFutures, TimeoutReturnsWhatIsStillPending) {
  Gated g(2);
  g.open(0, 5);
  auto r = wait_all(g.futures, 10ms);
  EXPECT_EQ(r.done.size(), 1u);
  EXPECT_EQ(r.not_done.size(), 1u);
  g.open(1, 6);
  EXPECT_EQ(r.not_done[0].get(bound), 6);
}

TEST(WaitFutures, FirstExceptionStopsAtAFailureButNotAtACancellation) {
  Gated g(3);
  g.futures[0].cancel();
  g.open(1, 1);
  auto early = wait_futures(g.futures, ReturnWhen::first_exception, 10ms);
  EXPECT_EQ(early.not_done.size(), 1u) << "no exception yet: it waits like all_completed";
  g.fail(2);
  auto r = wait_futures(g.futures, ReturnWhen::first_exception, bound);
  EXPECT_EQ(r.done.size(), 3u);
  EXPECT_THROW(g.futures[2].get(), std::runtime_error);
}

TEST(WaitFutures, DuplicatesCountOnceAndAnEmptyListReturnsAtOnce) {
  Gated g(1);
  g.open(0, 3);
  auto r = wait_all(std::vector<ThreadFuture<int>>{g.futures[0], g.futures[0]}, bound);
  EXPECT_EQ(r.done.size(), 1u);
  auto none = wait_any(std::vector<ThreadFuture<int>>{}, bound);
  EXPECT_TRUE(none.done.empty());
  EXPECT_TRUE(none.not_done.empty());
  EXPECT_THROW((void)wait_all(std::vector<ThreadFuture<int>>{ThreadFuture<int>()}), InvalidStateError);
}

TEST(WaitFutures, OnTheLoopThatMustCompleteThemItIsWrongThreadNotADeadlock) {
  LoopThread lt;
  auto r = lt->submit([&lt]() {
    auto f = lt->run_coroutine_threadsafe(value_after(1ms, 1));
    try {
      (void)wait_all(std::vector<ThreadFuture<int>>{f}, 1s);
      return false;
    } catch (const WrongThreadError&) {
      return true;
    }
  });
  EXPECT_TRUE(r.get(bound));
}

}  // namespace
}  // namespace loopvisor::test
