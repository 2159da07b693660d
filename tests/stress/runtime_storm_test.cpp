// Stress: submission storms racing shutdown, cancellation storms and failure storms, each with
// exact accounting. Counts scale down under sanitizers (LV_STRESS_DIVISOR).
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "loopvisor/gather.hpp"
#include "loopvisor/sleep.hpp"
#include "loopvisor/supervisor.hpp"
#include "loopvisor/task_group.hpp"
#include "test_support.hpp"

#ifndef LV_STRESS_DIVISOR
#define LV_STRESS_DIVISOR 1
#endif

namespace loopvisor::test {
namespace {

constexpr int divisor = LV_STRESS_DIVISOR;

/// Per-id counters any thread may bump; `twice()` finds an id counted more than once.
class Tally {
 public:
  explicit Tally(std::size_t n) : counts_(std::make_unique<std::atomic<std::uint8_t>[]>(n)), n_(n) {}
  void bump(std::size_t id) { counts_[id].fetch_add(1, std::memory_order_relaxed); }
  std::size_t at(std::size_t id) const { return counts_[id].load(std::memory_order_relaxed); }
  std::size_t total() const {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < n_; ++i) sum += at(i);
    return sum;
  }
  std::size_t twice() const {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n_; ++i) bad += at(i) > 1;
    return bad;
  }

 private:
  std::unique_ptr<std::atomic<std::uint8_t>[]> counts_;
  std::size_t n_;
};

asio::awaitable<std::size_t> echo(std::size_t id, Tally* ran) {
  ran->bump(id);
  co_return id;
}

TEST(Stress, MixedSubmissionsFromEightThreadsRacingShutdownAreEachRunOnceOrRefused) {
  constexpr int producers = 8;
  const std::size_t per_producer = 250000 / divisor;
  const std::size_t total = producers * per_producer;
  SupervisorOptions options;
  options.loops = 4;
  Supervisor sup(options);
  Tally ran(total), accepted(total), completed(total);
  std::atomic<std::size_t> full{0}, closed{0}, wrong_value{0};
  std::atomic<std::size_t> submitted{0};
  // Shutdown starts once this many submissions were attempted: anywhere in the run.
  const std::size_t shutdown_at = std::mt19937_64(std::random_device{}())() % total;
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (std::size_t i = 0; i < per_producer; ++i) {
        const std::size_t id = p * per_producer + i;
        submitted.fetch_add(1, std::memory_order_relaxed);
        try {
          if (id % 2 == 0) {
            sup.call_soon_threadsafe([&ran, id] { ran.bump(id); });
          } else {
            auto future = sup.run_coroutine_threadsafe(echo(id, &ran));
            future.add_done_callback([&completed, &wrong_value, id](ThreadFuture<std::size_t> f) {
              completed.bump(id);
              if (!f.cancelled() && f.exception() == nullptr && f.get() != id) wrong_value.fetch_add(1);
            });
          }
          accepted.bump(id);
        } catch (const SubmissionRejected&) {
          full.fetch_add(1, std::memory_order_relaxed);
        } catch (const RuntimeClosed&) {
          closed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  while (submitted.load() < shutdown_at) std::this_thread::yield();
  const auto report = sup.shutdown(std::chrono::seconds(30));
  for (auto& t : threads) t.join();

  EXPECT_EQ(accepted.total() + full.load() + closed.load(), total);
  EXPECT_EQ(ran.twice(), 0u) << "nothing runs twice";
  std::size_t accepted_not_run = 0, coroutine_futures_open = 0;
  for (std::size_t id = 0; id < total; ++id) {
    if (accepted.at(id) && id % 2 == 0 && !ran.at(id)) ++accepted_not_run;  // callbacks always drain
    if (accepted.at(id) && id % 2 == 1 && completed.at(id) != 1) ++coroutine_futures_open;
    if (!accepted.at(id)) {
      EXPECT_EQ(ran.at(id), 0u) << id;
    }
  }
  EXPECT_EQ(accepted_not_run, 0u) << "an accepted callback was lost";
  EXPECT_EQ(coroutine_futures_open, 0u) << "every accepted coroutine's future completed exactly once";
  EXPECT_EQ(wrong_value.load(), 0u);
  EXPECT_EQ(completed.twice(), 0u);
  EXPECT_EQ(sup.report().submissions_rejected, closed.load()) << "the report counts what callers saw";
  EXPECT_LE(report.submissions_rejected, closed.load());
  EXPECT_EQ(report.tasks_abandoned, 0u);
}

asio::awaitable<int> nap(int ms) {
  co_await loopvisor::sleep(std::chrono::milliseconds(ms));
  co_return ms;
}

TEST(Stress, RandomCancellationsEndEachFutureInExactlyOneStateWithOneCallback) {
  const std::size_t n = 100000 / divisor;
  SupervisorOptions options;
  options.loops = 2;
  options.submit_queue_capacity = 1u << 20;
  Supervisor sup(options);
  Tally callbacks(n);
  std::atomic<std::size_t> both_states{0}, values{0}, cancels{0};
  std::vector<ThreadFuture<int>> futures;
  futures.reserve(n);
  std::mt19937 rng(12345);
  for (std::size_t i = 0; i < n; ++i) {
    auto f = sup.run_coroutine_threadsafe(nap(static_cast<int>(rng() % 3)));
    f.add_done_callback([&, i](ThreadFuture<int> done) {
      callbacks.bump(i);
      if (done.cancelled() == (done.exception() == nullptr)) both_states.fetch_add(1);
      (done.cancelled() ? cancels : values).fetch_add(1);
    });
    switch (rng() % 4) {
      case 0:
        f.cancel();  // most likely before it starts
        break;
      case 1:
        if (i > 0) futures[i - 1].cancel();  // mid-await or already done
        break;
      default:
        break;
    }
    futures.push_back(std::move(f));
  }
  // Then cancel a random half of everything again, whatever state it is in.
  for (std::size_t i = 0; i < n; ++i) {
    if (rng() % 2) futures[i].cancel();
  }
  for (auto& f : futures) ASSERT_TRUE(f.wait_for(bound));
  EXPECT_TRUE(eventually([&] { return callbacks.total() == n; })) << callbacks.total() << " of " << n;
  EXPECT_EQ(callbacks.twice(), 0u);
  EXPECT_EQ(both_states.load(), 0u);
  EXPECT_EQ(values.load() + cancels.load(), n);
  EXPECT_GT(cancels.load(), 0u);
  const auto report = sup.shutdown(std::chrono::seconds(10));
  EXPECT_EQ(report.tasks_abandoned, 0u);
}

asio::awaitable<int> await_other_loop(ThreadFuture<int> inner) { co_return co_await inner.async_wait(); }

TEST(Stress, CrossLoopAwaitsCancelledFromAThirdThreadEachEndOnce) {
  const std::size_t n = 20000 / divisor;
  SupervisorOptions options;
  options.loops = 2;
  options.submit_queue_capacity = 1u << 20;
  Supervisor sup(options);
  Tally inner_done(n), outer_done(n);
  std::vector<ThreadFuture<int>> inners, outers;
  inners.reserve(n);
  outers.reserve(n);
  std::mt19937 rng(99);
  for (std::size_t i = 0; i < n; ++i) {
    auto inner = sup.loop(1).run_coroutine_threadsafe(nap(static_cast<int>(rng() % 3)));
    inner.add_done_callback([&inner_done, i](ThreadFuture<int>) { inner_done.bump(i); });
    auto outer = sup.loop(0).run_coroutine_threadsafe(await_other_loop(inner));
    outer.add_done_callback([&outer_done, i](ThreadFuture<int>) { outer_done.bump(i); });
    inners.push_back(std::move(inner));
    outers.push_back(std::move(outer));
  }
  std::thread canceller([&] {  // a thread that runs neither loop
    std::mt19937 pick(5);
    for (std::size_t i = 0; i < n; ++i) {
      switch (pick() % 3) {
        case 0:
          outers[i].cancel();  // cancels what it awaits too
          break;
        case 1:
          inners[i].cancel();  // the awaiting task sees CancelledError
          break;
        default:
          break;
      }
    }
  });
  canceller.join();
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(outers[i].wait_for(bound)) << i;
    ASSERT_TRUE(inners[i].wait_for(bound)) << i;
    if (outers[i].cancelled()) continue;
    // An outer that was not cancelled carries its inner's outcome.
    if (inners[i].cancelled()) {
      EXPECT_NE(outers[i].exception(), nullptr) << i;
    } else {
      EXPECT_EQ(outers[i].get(), inners[i].get()) << i;
    }
  }
  EXPECT_TRUE(eventually([&] { return inner_done.total() == n && outer_done.total() == n; }));
  EXPECT_EQ(inner_done.twice() + outer_done.twice(), 0u);
  EXPECT_EQ(sup.shutdown(std::chrono::seconds(10)).tasks_abandoned, 0u);
}

asio::awaitable<int> fail_soon(int ms) {
  co_await loopvisor::sleep(std::chrono::milliseconds(ms));
  throw std::runtime_error("planned failure");
}

TEST(Stress, GatherAndTaskGroupFailureStormsLeaveNoTaskBehind) {
  const int rounds = 2000 / divisor;
  run_on_loop([rounds]() -> asio::awaitable<void> {
    std::mt19937 rng(7);
    for (int r = 0; r < rounds; ++r) {
      std::vector<Task<int>> tasks;
      for (int k = 0; k < 8; ++k) {
        const int ms = static_cast<int>(rng() % 3);
        tasks.push_back(k == 3 ? create_task(fail_soon(ms)) : create_task(nap(ms)));
      }
      EXPECT_THROW((void)co_await gather(std::move(tasks)), std::runtime_error);
      TaskGroup group;
      for (int k = 0; k < 8; ++k) {
        const int ms = static_cast<int>(rng() % 3);
        if (k == 5) {
          (void)group.create_task(fail_soon(ms));
        } else {
          (void)group.create_task(nap(ms + 50));
        }
      }
      EXPECT_THROW(co_await group.wait(), ExceptionGroup);
    }
    // gather's fail-fast leaves its other children running (asyncio does too); they end on
    // their own. Nothing else may be left.
    co_await until([] { return Loop::current().all_tasks().size() == 1; });  // this task only
  });
}

}  // namespace
}  // namespace loopvisor::test
