// gather: argument order, first exception, return_exceptions, cancellation both ways.
#include "loopvisor/gather.hpp"

#include <gtest/gtest.h>

#include "loopvisor/sleep.hpp"
#include "loopvisor/wait.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<int> record_start(std::vector<int>* starts, int v) {
  starts->push_back(v);
  co_await loopvisor::sleep(std::chrono::milliseconds(3 - v));
  co_return v;
}

TEST(Gather, AcceptsAwaitablesAndTasksMixedAndStartsThemInArgumentOrder) {
  auto r = run_on_loop([]() -> asio::awaitable<std::pair<std::tuple<int, int, int>, std::vector<int>>> {
    std::vector<int> starts;
    auto middle = create_task(record_start(&starts, 1));
    auto all = gather(record_start(&starts, 0), middle, record_start(&starts, 2));
    auto values = co_await std::move(all);
    co_return std::make_pair(values, starts);
  });
  EXPECT_EQ(r.first, std::make_tuple(0, 1, 2));
  EXPECT_EQ(r.second, (std::vector<int>{1, 0, 2}))
      << "the task made first runs first, then the awaitables in order";
}

TEST(Gather, AcceptsAVectorOfAwaitablesWithAndWithoutReturnExceptions) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<asio::awaitable<int>> coros;
    coros.push_back(value_after(2ms, 1));
    coros.push_back(value_after(1ms, 2));
    auto values = co_await gather(std::move(coros));
    EXPECT_EQ(values, (std::vector<int>{1, 2}));
    std::vector<asio::awaitable<int>> mixed;
    mixed.push_back(value_after(1ms, 1));
    mixed.push_back(fail_after(1ms, "second"));
    auto outcomes = co_await gather(return_exceptions, std::move(mixed));
    EXPECT_TRUE(outcomes.at(0).ok());
    EXPECT_FALSE(outcomes.at(1).ok());
    auto both = gather(return_exceptions, value_after(1ms, 3), fail_after(1ms, "x"));
    auto pair = co_await std::move(both);
    EXPECT_EQ(std::get<0>(pair).get(), 3);
    EXPECT_THROW(std::get<1>(pair).get(), std::runtime_error);
  });
}

TEST(Gather, CancellingAGatherOfAwaitablesCancelsTheTasksMadeForThem) {
  run_on_loop([]() -> asio::awaitable<void> {
    const auto before = Loop::current().all_tasks().size();
    std::vector<asio::awaitable<int>> coros;
    coros.push_back(value_after(10s, 1));
    coros.push_back(value_after(10s, 2));
    auto outer = create_task([](std::vector<asio::awaitable<int>> cs) -> asio::awaitable<int> {
      auto values = co_await gather(std::move(cs));
      co_return values.at(0);
    }(std::move(coros)));
    co_await until([&] { return Loop::current().all_tasks().size() == before + 3; });  // outer, two children
    EXPECT_TRUE(outer.cancel());
    EXPECT_THROW((void)co_await outer, CancelledError);
    co_await until([&] { return Loop::current().all_tasks().size() == before; });
  });
}

TEST(Gather, ResultsComeInArgumentOrderNotCompletionOrder) {
  auto r = run_on_loop([]() -> asio::awaitable<std::tuple<int, int, int>> {
    co_return co_await gather(create_task(value_after(30ms, 1)), create_task(value_after(10ms, 2)),
                              create_task(value_after(20ms, 3)));
  });
  EXPECT_EQ(r, std::make_tuple(1, 2, 3));
}

TEST(Gather, VectorFormKeepsOrder) {
  auto r = run_on_loop([]() -> asio::awaitable<std::vector<int>> {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 5; ++i)
      tasks.push_back(create_task(value_after(std::chrono::milliseconds(5 - i), i)));
    co_return co_await gather(tasks);
  });
  EXPECT_EQ(r, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Gather, FirstExceptionInTimePropagatesAndOthersKeepRunning) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto slow_fail = create_task(fail_after(40ms, "slow"));
    auto fast_fail = create_task(fail_after(5ms, "fast"));
    auto ok = create_task(value_after(20ms, 7));
    try {
      (void)co_await gather(slow_fail, fast_fail, ok);
      ADD_FAILURE() << "expected an exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "fast");
    }
    EXPECT_FALSE(ok.done()) << "siblings are not cancelled";
    EXPECT_EQ(co_await ok.async_wait(), 7);
    EXPECT_THROW((void)co_await slow_fail.async_wait(), std::runtime_error);
  });
}

TEST(Gather, ReturnExceptionsGivesEveryOutcomeInOrder) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto cancelled = create_task(value_after(10s, 0));
    auto [a, b, c] = co_await gather(return_exceptions, create_task(value_after(5ms, 1)),
                                     create_task(fail_after(1ms, "bad")), [&]() {
                                       cancelled.cancel();
                                       return cancelled;
                                     }());
    EXPECT_TRUE(a.ok());
    EXPECT_EQ(a.get(), 1);
    EXPECT_FALSE(b.ok());
    EXPECT_THROW((void)b.get(), std::runtime_error);
    EXPECT_TRUE(is_cancellation(c.error));
  });
}

TEST(Gather, ChildCancelledFromOutsideIsCancelledErrorOfTheGather) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto victim = create_task(value_after(10s, 0));
    auto other = create_task(value_after(20ms, 1));
    Loop::current().call_later(2ms, [victim]() mutable { victim.cancel(); });
    EXPECT_THROW((void)co_await gather(victim, other), CancelledError);
    EXPECT_FALSE(other.cancelled());
    co_await other.async_wait();
  });
}

asio::awaitable<void> gather_two(Task<int> a, Task<int> b) { (void)co_await gather(a, b); }

TEST(Gather, CancellingTheGatherCancelsEveryChildNotDone) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto done_child = create_task(value_after(0ms, 1));
    auto sleeper = create_task(value_after(10s, 2));
    co_await done_child.async_wait();
    auto outer = create_task(gather_two(done_child, sleeper));
    co_await loopvisor::sleep(2ms);
    EXPECT_TRUE(outer.cancel());
    EXPECT_THROW(co_await outer.async_wait(), CancelledError);
    co_await until([&] { return sleeper.done(); });
    EXPECT_TRUE(sleeper.cancelled());
    EXPECT_EQ(done_child.status(), TaskStatus::done);
  });
}

TEST(Gather, AfterAFailFastGatherTheLaterChildErrorsAreNotReportedAsNeverRetrieved) {
  std::atomic<int> reports{0};
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext& c) {
    ADD_FAILURE() << c.message;
    ++reports;
  };
  run_on_loop(
      []() -> asio::awaitable<void> {
        auto first = create_task(fail_after(0ms, "first"));
        auto later = create_task(fail_after(3ms, "later"));
        EXPECT_THROW((void)co_await gather(first, later), std::runtime_error);
        while (!later.done()) co_await yield_now();
      },
      options);
  EXPECT_EQ(reports.load(), 0);
}

TEST(Gather, CancellingTheGatherWithAMessageCancelsTheChildrenWithIt) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto child = create_task(value_after(10s, 1));
    auto g = create_task([](Task<int> c) -> asio::awaitable<int> {
      auto [v] = co_await gather(c);
      co_return v;
    }(child));
    co_await yield_now();
    co_await yield_now();
    EXPECT_TRUE(g.cancel("shutting down"));
    try {
      (void)co_await child.async_wait();
      ADD_FAILURE() << "child not cancelled";
    } catch (const CancelledError& e) {
      EXPECT_STREQ(e.what(), "shutting down");
    }
    EXPECT_THROW((void)co_await g.async_wait(), CancelledError);
  });
}

TEST(WaitFor, TheCancelMessageOfTheOuterReachesTheInnerTask) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto inner = create_task(value_after(10s, 1));
    auto outer =
        create_task([](Task<int> t) -> asio::awaitable<int> { co_return co_await wait_for(t, 10s); }(inner));
    co_await yield_now();
    co_await yield_now();
    EXPECT_TRUE(outer.cancel("deadline moved"));
    try {
      (void)co_await inner.async_wait();
      ADD_FAILURE() << "inner not cancelled";
    } catch (const CancelledError& e) {
      EXPECT_STREQ(e.what(), "deadline moved");
    }
    EXPECT_THROW((void)co_await outer.async_wait(), CancelledError);
  });
}

}  // namespace
}  // namespace loopvisor::test
