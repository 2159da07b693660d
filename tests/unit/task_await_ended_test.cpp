// Awaiting a task that has already ended: the result comes back at once, as asyncio's `await`
// of a done task, however many such awaits follow one another.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "loopvisor/loop.hpp"
#include "loopvisor/sleep.hpp"
#include "loopvisor/task.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<int> just(int v) { co_return v; }

// Creates `n` tasks returning 0..n-1 and returns them once every one has ended.
asio::awaitable<std::vector<Task<int>>> ended_tasks(int n) {
  std::vector<Task<int>> tasks;
  tasks.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) tasks.push_back(create_task(just(i)));
  co_await yield_now();  // each task's only step was queued before this resumption
  for (auto& t : tasks) EXPECT_TRUE(t.done());
  co_return tasks;
}

// Awaits `ended` directly and through async_wait(), and says whether a callback queued just
// before ran in between.
asio::awaitable<std::vector<bool>> await_and_watch(std::shared_ptr<Task<int>> ended) {
  std::vector<bool> other_ran;
  for (const bool direct : {true, false}) {
    auto ran = std::make_shared<bool>(false);
    Loop::current().call_soon([ran] { *ran = true; });
    int v = 0;
    if (direct) {
      v = co_await *ended;
    } else {
      v = co_await ended->async_wait();
    }
    EXPECT_EQ(v, 7);
    other_ran.push_back(*ran);
    co_await yield_now();
    EXPECT_TRUE(*ran);
  }
  co_return other_ran;
}

// A callback that starts `coro` as a plain coroutine on the loop (not a task; no task's step
// is running when it starts) and stores its result in `out`. (A helper, not a lambda inside
// the test's coroutine: GCC 12 rejects nested capturing lambdas there.)
template <class T>
std::function<void()> spawn_plain(asio::awaitable<T> coro, std::shared_ptr<std::optional<T>> out) {
  auto shared = std::make_shared<asio::awaitable<T>>(std::move(coro));
  return [shared, out] {
    asio::co_spawn(Loop::current().get_executor(), std::move(*shared), [out](std::exception_ptr e, T r) {
      EXPECT_FALSE(e);
      out->emplace(std::move(r));
    });
  };
}

// asyncio: `await task` on a done task returns its result without yielding, so a callback
// queued before the await has not run when the awaiter goes on. So for a task awaiting, and
// for a plain coroutine on the loop (not a task).
TEST(TaskAwaitEnded, ReturnsTheResultWithoutYieldingToTheLoop) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto ended = std::make_shared<Task<int>>(create_task(just(7)));
    co_await yield_now();
    EXPECT_TRUE(ended->done());

    auto in_task = create_task(await_and_watch(ended));
    const auto in_task_ran = co_await in_task;
    EXPECT_EQ(in_task_ran, (std::vector<bool>{false, false}));

    auto in_plain = std::make_shared<std::optional<std::vector<bool>>>();
    Loop::current().call_soon(spawn_plain(await_and_watch(ended), in_plain));
    // Named first: GCC 12 destroys a lambda's by-copy captures twice inside a co_await expression.
    auto has_result = [in_plain] { return in_plain->has_value(); };
    co_await until(has_result);
    const std::vector<bool> plain_ran = **in_plain;
    EXPECT_EQ(plain_ran, (std::vector<bool>{false, false}));
  });
}

// Thousands of ended tasks awaited in a row complete one after another on one stack, not one
// inside the other (that would take the loop thread's stack about a kilobyte deeper per
// await and overflow it), and none of them lets other work in.
TEST(TaskAwaitEnded, ALongRunOfAwaitsKeepsTheStackFlatAndTheTurn) {
  constexpr int n = 20'000;
  run_on_loop([]() -> asio::awaitable<void> {
    auto tasks = co_await ended_tasks(n);
    auto ran = std::make_shared<bool>(false);
    Loop::current().call_soon([ran] { *ran = true; });
    long sum = 0;
    for (auto& t : tasks) sum += co_await t;
    EXPECT_FALSE(*ran) << "an await of an ended task yielded to the loop";
    EXPECT_EQ(sum, static_cast<long>(n) * (n - 1) / 2);
  });
}

asio::awaitable<int> cancel_self_then_await_ended(std::shared_ptr<Task<int>> ended,
                                                  std::shared_ptr<int> got) {
  current_task().cancel("self");
  const int v = co_await *ended;  // asyncio: the result, as no suspension happened
  *got = v;
  co_await sleep(std::chrono::seconds(10));  // the first real suspension gets the request
  ADD_FAILURE() << "the sleep was not cancelled";
  co_return v;
}

// asyncio: a task that cancels itself gets CancelledError at its next real suspension; an
// await of a done task is not one.
TEST(TaskAwaitEnded, ASelfCancelIsDeliveredToTheNextRealSuspensionNotToTheAwaitOfAnEndedTask) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto ended = std::make_shared<Task<int>>(create_task(just(7)));
    co_await yield_now();
    auto got = std::make_shared<int>(0);
    auto t = create_task(cancel_self_then_await_ended(ended, got));
    EXPECT_THROW((void)co_await t, CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(*got, 7) << "the await of the ended task raised instead of returning its result";
  });
}

}  // namespace
}  // namespace loopvisor::test
