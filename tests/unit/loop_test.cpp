// Loop: current(), run_forever/stop, call_soon FIFO, timers, thread-safe submission, errors.
#include "loopvisor/loop.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <stdexcept>
#include "loopvisor/blocking_pool.hpp"
#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/log.hpp"
#include "loopvisor/supervisor.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

TEST(Loop, CurrentIsTheLoopRunningTheCodeAndFailsClearlyOffLoop) {
  EXPECT_EQ(Loop::current_or_null(), nullptr);
  try {
    (void)Loop::current();
    FAIL() << "expected WrongThreadError";
  } catch (const WrongThreadError& e) {
    EXPECT_NE(std::string(e.what()).find("not running a loopvisor loop"), std::string::npos);
  }
  LoopThread lt;
  Loop* seen = lt->submit([] { return &Loop::current(); }).get(bound);
  EXPECT_EQ(seen, &lt.loop());
}

TEST(Loop, StandaloneRunForeverOnUserThreadStopsFromAnotherThread) {
  Loop loop;
  Signal ran;
  std::thread runner([&] { loop.run_forever(); });
  loop.call_soon_threadsafe([&] { ran.set(); });
  ASSERT_TRUE(ran.wait());
  EXPECT_TRUE(loop.is_running());
  loop.stop();
  runner.join();
  EXPECT_FALSE(loop.is_running());
  // Work queued after stop waits for the next run; close() runs it.
  std::atomic<bool> later{false};
  loop.call_soon_threadsafe([&] { later = true; });
  const auto report = loop.close(1s, 1s);
  EXPECT_TRUE(later.load());
  EXPECT_EQ(report.callbacks_run, 1u);
  EXPECT_TRUE(loop.is_closed());
  EXPECT_THROW(loop.run_forever(), InvalidStateError);
}

TEST(Loop, CallSoonRunsInFifoOrder) {
  auto order = run_on_loop([]() -> asio::awaitable<std::vector<int>> {
    std::vector<int> seen;
    for (int i = 0; i < 100; ++i) Loop::current().call_soon([&seen, i] { seen.push_back(i); });
    co_await until([&] { return seen.size() == 100; });
    co_return seen;
  });
  std::vector<int> expected(100);
  for (int i = 0; i < 100; ++i) expected[i] = i;
  EXPECT_EQ(order, expected);
}

TEST(Loop, TimersRunInDeadlineOrderAndFifoForEqualDeadlines) {
  auto order = run_on_loop([]() -> asio::awaitable<std::vector<int>> {
    std::vector<int> seen;
    Loop& loop = Loop::current();
    const auto t0 = loop.time();
    loop.call_at(t0 + 30ms, [&] { seen.push_back(3); });
    loop.call_at(t0 + 10ms, [&] { seen.push_back(1); });
    loop.call_at(t0 + 20ms, [&] { seen.push_back(2); });
    loop.call_at(t0 + 20ms, [&] { seen.push_back(22); });
    loop.call_later(0ms, [&] { seen.push_back(0); });
    co_await until([&] { return seen.size() == 5; });
    co_return seen;
  });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 22, 3}));
}

TEST(Loop, CallLaterWaitsAtLeastItsDelay) {
  auto waited = run_on_loop([]() -> asio::awaitable<std::chrono::steady_clock::duration> {
    Loop& loop = Loop::current();
    const auto t0 = loop.time();
    std::chrono::steady_clock::time_point fired{};
    loop.call_later(20ms, [&] { fired = std::chrono::steady_clock::now(); });
    co_await until([&] { return fired != std::chrono::steady_clock::time_point{}; });
    co_return fired - t0;
  });
  EXPECT_GE(waited, 20ms);
}

TEST(Loop, CancelledHandlesNeverRun) {
  auto ran = run_on_loop([]() -> asio::awaitable<std::vector<int>> {
    std::vector<int> seen;
    Loop& loop = Loop::current();
    auto a = loop.call_soon([&] { seen.push_back(1); });
    auto b = loop.call_later(1ms, [&] { seen.push_back(2); });
    auto c = loop.call_soon([&] { seen.push_back(3); });
    loop.call_later(5ms, [&] { seen.push_back(4); });
    EXPECT_TRUE(a.cancel());
    EXPECT_TRUE(b.cancel());
    EXPECT_FALSE(a.cancel()) << "a second cancel reports false";
    co_await until([&] { return !seen.empty() && seen.back() == 4; });
    EXPECT_FALSE(c.cancel()) << "cancel after the run reports false";
    co_return seen;
  });
  EXPECT_EQ(ran, (std::vector<int>{3, 4}));
}

TEST(Loop, ThreadsafeHandleCancelFromAnotherThreadPreventsTheRun) {
  Loop loop;  // not running: submissions wait in the queue
  std::atomic<int> ran{0};
  auto h1 = loop.call_soon_threadsafe([&] { ran += 1; });
  auto h2 = loop.call_soon_threadsafe([&] { ran += 10; });
  bool cancelled = false;
  std::thread other([&] { cancelled = h2.cancel(); });
  other.join();
  EXPECT_TRUE(cancelled);
  loop.close(1s, 1s);
  EXPECT_EQ(ran.load(), 1);
  EXPECT_FALSE(h1.cancel());
  EXPECT_FALSE(h2.cancel());
}

TEST(Loop, OnLoopApisFailClearlyOffLoop) {
  Loop loop;
  EXPECT_THROW(loop.call_soon([] {}), WrongThreadError);
  EXPECT_THROW(loop.call_later(1ms, [] {}), WrongThreadError);
  EXPECT_THROW((void)loop.all_tasks(), WrongThreadError);
}

TEST(Loop, FullQueueRejectsAtOnceAndNothingAcceptedIsLost) {
  LoopOptions options;
  options.submit_queue_capacity = 4;
  Loop loop(options);  // not running: nothing drains
  std::atomic<int> ran{0};
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 10; ++i) {
    try {
      loop.call_soon_threadsafe([&] { ++ran; });
      ++accepted;
    } catch (const SubmissionRejected& e) {
      ++rejected;
      EXPECT_NE(std::string(e.what()).find("queue is full"), std::string::npos);
    }
  }
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(rejected, 6);
  EXPECT_EQ(loop.stats().submissions_rejected, 6u);
  loop.close(1s, 1s);
  EXPECT_EQ(ran.load(), 4);
}

// Destroyed where the test can see it: on which thread, and whether it ran.
struct Witness {
  std::atomic<int>* ran;
  std::thread::id* destroyed_on;
  bool armed = true;
  Witness(std::atomic<int>* r, std::thread::id* d) : ran(r), destroyed_on(d) {}
  Witness(Witness&& o) noexcept
      : ran(o.ran), destroyed_on(o.destroyed_on), armed(std::exchange(o.armed, false)) {}
  ~Witness() {
    if (armed) *destroyed_on = std::this_thread::get_id();
  }
  void operator()() { ++*ran; }
};

TEST(Loop, TryCallSoonThreadsafeReportsFullAndClosedWithoutThrowing) {
  LoopOptions options;
  options.submit_queue_capacity = 4;
  Loop loop(options);  // not running: nothing drains
  std::atomic<int> ran{0};
  std::thread::id destroyed_on;
  int accepted = 0;
  for (int i = 0; i < 4; ++i)
    accepted += loop.try_call_soon_threadsafe(Witness(&ran, &destroyed_on)) == SubmitStatus::accepted;
  EXPECT_EQ(accepted, 4);
  destroyed_on = {};
  EXPECT_EQ(loop.try_call_soon_threadsafe(Witness(&ran, &destroyed_on)), SubmitStatus::full);
  EXPECT_EQ(destroyed_on, std::this_thread::get_id())
      << "a refused callable is destroyed on the caller's thread";
  EXPECT_EQ(loop.stats().submissions_rejected, 1u);
  loop.close(1s, 1s);
  EXPECT_EQ(ran.load(), 4) << "every accepted callable ran";
  EXPECT_EQ(loop.try_call_soon_threadsafe(Witness(&ran, &destroyed_on)), SubmitStatus::closed);
  EXPECT_EQ(ran.load(), 4);
  EXPECT_EQ(loop.stats().submissions_rejected, 2u);
  EXPECT_STREQ(to_string(SubmitStatus::full), "full");
}

TEST(Loop, TryCallSoonThreadsafeFromTheLoopKeepsFifoWithCallSoon) {
  LoopThread lt;
  std::vector<int> order;
  auto done = lt->submit([&] {
    auto& loop = Loop::current();
    loop.call_soon([&] { order.push_back(1); });
    EXPECT_EQ(loop.try_call_soon_threadsafe([&] { order.push_back(2); }), SubmitStatus::accepted);
    loop.call_soon([&] { order.push_back(3); });
  });
  done.get(bound);
  lt->submit([] {}).get(bound);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(Loop, TryCallSoonThreadsafeCallbacksThatThrowNameTheirCaller) {
  std::mutex mu;
  std::vector<std::string> messages;
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext& c) {
    std::lock_guard g(mu);
    messages.push_back(describe(c));
  };
  LoopThread lt(options);
  const int line = __LINE__ + 1;
  EXPECT_EQ(lt->try_call_soon_threadsafe([] { throw std::runtime_error("bad"); }), SubmitStatus::accepted);
  lt->submit([] {}).get(bound);
  std::lock_guard g(mu);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("loop_test.cpp:" + std::to_string(line)), std::string::npos) << messages[0];
}

TEST(Supervisor, TryCallSoonThreadsafeIsClosedOnceShutdownBegan) {
  Supervisor sup(SupervisorOptions{.loops = 1});
  std::atomic<int> ran{0};
  EXPECT_EQ(sup.try_call_soon_threadsafe([&] { ++ran; }), SubmitStatus::accepted);
  (void)sup.shutdown(1s);
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(sup.try_call_soon_threadsafe([&] { ++ran; }), SubmitStatus::closed);
}

TEST(Loop, SubmitAfterCloseIsRuntimeClosed) {
  Loop loop;
  loop.close(1s, 1s);
  EXPECT_THROW(loop.call_soon_threadsafe([] {}), RuntimeClosed);
  EXPECT_THROW((void)loop.submit([] { return 1; }), RuntimeClosed);
  EXPECT_EQ(loop.stats().submissions_rejected, 2u);
  EXPECT_EQ(loop.close().submissions_rejected, 0u) << "close is idempotent: the first report";
}

TEST(Loop, ThrowingCallbackIsReportedAndTheLoopGoesOn) {
  std::mutex mu;
  std::vector<std::string> messages;
  LoopOptions options;
  options.name = "handler-loop";
  options.exception_handler = [&](const ExceptionContext& c) {
    std::lock_guard g(mu);
    messages.push_back(describe(c));
  };
  LoopThread lt(options);
  const int line = __LINE__ + 1;
  lt->call_soon_threadsafe([] { throw std::runtime_error("bad callback"); });
  EXPECT_EQ(lt->submit([] { return 5; }).get(bound), 5) << "the loop survived";
  std::lock_guard g(mu);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0], "handler-loop: callback from loop_test.cpp:" + std::to_string(line) +
                             " raised an exception: bad callback")
      << "the report names the line that submitted the callback";
  EXPECT_EQ(lt->stats().unhandled_exceptions, 1u);
}

TEST(Loop, RejectionsNameTheCallersLine) {
  Loop loop;
  loop.close(1s, 1s);
  const std::string here = "loop_test.cpp:" + std::to_string(__LINE__ + 2);
  try {
    loop.call_soon_threadsafe([] {});
    ADD_FAILURE() << "a closed loop accepted a callback";
  } catch (const RuntimeClosed& e) {
    EXPECT_NE(std::string(e.what()).find(here), std::string::npos) << e.what();
  }
  const std::string there = "loop_test.cpp:" + std::to_string(__LINE__ + 2);
  try {
    (void)loop.submit([] { return 1; });
    ADD_FAILURE() << "a closed loop accepted a job";
  } catch (const RuntimeClosed& e) {
    EXPECT_NE(std::string(e.what()).find(there), std::string::npos) << e.what();
  }
  BlockingPool pool;
  pool.shutdown();
  const std::string pool_line = "loop_test.cpp:" + std::to_string(__LINE__ + 2);
  try {
    (void)pool.submit([] { return 1; });
    ADD_FAILURE() << "a shut-down pool accepted a job";
  } catch (const RuntimeClosed& e) {
    EXPECT_NE(std::string(e.what()).find(pool_line), std::string::npos) << e.what();
  }
}

TEST(Loop, TasksStartedFromAnotherThreadHaveTheCallersLineAsOrigin) {
  LoopThread lt;
  Signal release;
  auto wait_release = [&release]() -> asio::awaitable<void> {
    co_await loopvisor::to_thread([&release] { release.wait(); });
  };
  const auto first_line = __LINE__ + 1;
  auto a = lt->run_coroutine_threadsafe(wait_release());
  const auto second_line = __LINE__ + 1;
  auto b = lt->run_coroutine_threadsafe(wait_release);
  const auto third_line = __LINE__ + 1;
  auto c = lt->submit(wait_release);
  const auto fourth_line = __LINE__ + 1;
  auto d = run_coroutine_threadsafe(wait_release(), lt.loop());
  std::vector<std::string> origins;
  ASSERT_TRUE(eventually([&] {
    origins.clear();
    for (const auto& info : lt->snapshot_tasks().get(bound)) origins.push_back(info.origin);
    return origins.size() == 4;
  }));
  std::sort(origins.begin(), origins.end());
  std::vector<std::string> expected;
  for (auto line : {first_line, second_line, third_line, fourth_line})
    expected.push_back("loop_test.cpp:" + std::to_string(line));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(origins, expected);
  release.set();
  a.get(bound);
  b.get(bound);
  c.get(bound);
  d.get(bound);
}

/// Captured state whose destructor throws (declared noexcept(false), as careless code may);
/// only the last owner (moves disarm their source) throws.
struct ThrowsOnDestruction {
  explicit ThrowsOnDestruction(std::atomic<int>* d) : destroyed(d) {}
  ThrowsOnDestruction(ThrowsOnDestruction&& other) noexcept
      : destroyed(other.destroyed), armed(std::exchange(other.armed, false)) {}
  ~ThrowsOnDestruction() noexcept(false) {
    if (!armed) return;
    destroyed->fetch_add(1);
    throw std::runtime_error("destructor of captured state");
  }
  std::atomic<int>* destroyed;
  bool armed = true;
};

TEST(Loop, ACallbackWhoseCapturedStateThrowsOnDestructionDoesNotKillTheLoop) {
  // Fault injection: the runtime destroyed callables in noexcept code, so a throwing
  // destructor terminated the process.
  std::atomic<int> destroyed{0};
  LoopThread lt;
  lt->call_soon_threadsafe([state = ThrowsOnDestruction(&destroyed)] { (void)state; });
  EXPECT_EQ(lt->submit([] { return 7; }).get(bound), 7) << "the loop survived";
  EXPECT_TRUE(eventually([&] { return destroyed.load() == 1; }));
}

TEST(Loop, BlockingCallbackDelaysTheCallbacksBehindItOnTheSameLoop) {
  LoopThread lt;
  Signal release;
  std::atomic<bool> second_ran{false};
  lt->call_soon_threadsafe([&] { release.wait(); });
  lt->call_soon_threadsafe([&] { second_ran = true; });
  auto probe = lt->submit([] { return true; });
  EXPECT_FALSE(probe.wait_for(50ms)) << "the loop is held by the blocking callback";
  EXPECT_FALSE(second_ran.load());
  release.set();
  EXPECT_TRUE(probe.get(bound));
  EXPECT_TRUE(second_ran.load());
}

// No wall-clock bound is asserted: a callback sleeping past the threshold is slow whatever the
// machine does (sleep is a lower bound), and an empty callback is not slow against a threshold
// no preemption reaches.
TEST(Loop, SlowCallbacksAndTaskStepsAreCountedButFastOnesAreNot) {
  LoopOptions options;
  options.slow_callback_threshold = 30ms;
  LoopThread lt(options);
  lt->call_soon_threadsafe([] { std::this_thread::sleep_for(40ms); });  // blocks the loop on purpose
  (void)lt->submit([] {}).get(bound);
  EXPECT_EQ(lt->stats().slow_callbacks, 1u);
  auto f = lt->run_coroutine_threadsafe([]() -> asio::awaitable<void> {
    co_await sleep_for(1ms);
    std::this_thread::sleep_for(40ms);  // a blocking step inside a task
  }());
  f.get(bound);  // the future completes inside the slow step, before the step is measured
  EXPECT_TRUE(eventually([&] { return lt->stats().slow_callbacks == 2; }));

  LoopOptions lenient;
  lenient.slow_callback_threshold = std::chrono::hours(1);
  LoopThread quick(lenient);
  for (int i = 0; i < 100; ++i) quick->call_soon_threadsafe([] {});
  (void)quick->run_coroutine_threadsafe(value_after(1ms, 1)).get(bound);
  EXPECT_EQ(quick->stats().slow_callbacks, 0u) << "only what passes the threshold is slow";
}

// While callbacks are quick, a batch reads the clock once per few callbacks (SlowLaps). A slow
// one amid quick ones, or last in its batch (where its lap is still open when the batch ends),
// is still reported, once (as one callback, or as the strided lap it fell in). A task step
// holds the loop while the test queues the callbacks, so they reach one drain batch; the
// step's own report (if it is slow) names the task, not a callback. The threshold is high
// enough that a preempted loop thread does not make a quick callback slow.
TEST(Loop, ASlowCallbackAmongQuickOnesInOneBatchIsReportedOnceWhereverItFalls) {
  std::mutex mu;
  int reports = 0;
  set_log_sink(
      [&](LogLevel, std::string_view message) {
        // "callback held the loop", or "N callbacks in a row held the loop" for a strided lap.
        if (message.find("held the loop") == std::string_view::npos ||
            message.find("callback") == std::string_view::npos)
          return;
        std::lock_guard g(mu);
        ++reports;
      },
      LogLevel::warn);
  struct Restore {
    ~Restore() { set_log_sink({}, LogLevel::warn); }
  } restore;
  const auto reported = [&] {
    std::lock_guard g(mu);
    return reports;
  };
  LoopOptions options;
  options.slow_callback_threshold = 150ms;
  LoopThread lt(options);
  int expected = 0;
  const auto batch = [&](int quick_before, int quick_after) {
    std::promise<void> entered;
    std::promise<void> queued;
    auto hold = lt->run_coroutine_threadsafe(
        [](std::promise<void>& entered, std::shared_future<void> queued) -> asio::awaitable<void> {
          entered.set_value();
          (void)queued.wait_for(bound);  // the loop is held: the callbacks queue up
          co_return;
        }(entered, queued.get_future().share()));
    ASSERT_EQ(entered.get_future().wait_for(bound), std::future_status::ready);
    for (int i = 0; i < quick_before; ++i) lt->call_soon_threadsafe([] {});
    lt->call_soon_threadsafe([] { std::this_thread::sleep_for(200ms); });  // slow on purpose
    for (int i = 0; i < quick_after; ++i) lt->call_soon_threadsafe([] {});
    queued.set_value();
    hold.get(bound);
    ++expected;
    EXPECT_TRUE(eventually([&] { return reported() >= expected; }))
        << "the slow callback after " << quick_before << " quick ones was not reported";
  };
  const int stride = static_cast<int>(detail::SlowLaps::quick_stride);
  batch(2 * stride + 4, 2 * stride + 4);                      // in the middle of a strided lap
  batch(2 * stride + 5, 0);                                   // last: its lap ends with the batch
  batch(0, 0);                                                // alone
  for (int i = 0; i < stride; ++i) batch(4 * stride + i, 3);  // at every place in a lap
  (void)lt->submit([] {}).get(bound);
  EXPECT_EQ(reported(), expected) << "a slow callback was reported twice, or a quick one was";
}

// A drained batch runs each callback where it lies in the inbox and frees its cell after it.
// Across batches (60 callbacks queued, 32 per batch) each runs once and in order; one cancelled
// through its Handle before any batch began is skipped; one that throws is reported and the
// rest still run; a throwing one that is a heap-held callable (too large to live inline) is
// destroyed too. Afterwards every cell is free: a full capacity's worth is accepted again.
TEST(Loop, ABatchRunsEachCallbackInItsCellOnceInOrderAndFreesEveryCell) {
  std::atomic<int> reported{0};
  LoopOptions options;
  options.submit_queue_capacity = 64;
  options.drain_batch = 32;
  options.exception_handler = [&](const ExceptionContext& c) {
    try {
      std::rethrow_exception(c.exception);
    } catch (const std::runtime_error& e) {
      if (std::string_view(e.what()) == "thrown on purpose") reported.fetch_add(1);
    } catch (...) {
    }
  };
  LoopThread lt(options);
  const auto hold_loop = [&] {
    auto entered = std::make_shared<std::promise<void>>();
    auto release = std::make_shared<std::promise<void>>();
    auto held = lt->run_coroutine_threadsafe([](std::shared_ptr<std::promise<void>> entered,
                                                std::shared_future<void> released) -> asio::awaitable<void> {
      entered->set_value();
      (void)released.wait_for(bound);  // the loop is held: callbacks queue up
      co_return;
    }(entered, release->get_future().share()));
    EXPECT_EQ(entered->get_future().wait_for(bound), std::future_status::ready);
    return std::make_pair(std::move(held), release);
  };
  auto alive = std::make_shared<int>(0);  // owned by the large callables, to see them destroyed
  std::vector<int> ran;                   // written on the loop thread only
  for (int round = 0; round < 3; ++round) {
    auto [held, release] = hold_loop();
    const int throwing = 5 + round * 14;  // 5, 19, 33: first batch, and the second
    const int large = throwing + 1;       // throws too, and lives on the heap
    const int cancelled = throwing + 3;
    std::vector<Handle> handles;
    for (int i = 0; i < 60; ++i) {
      if (i == throwing) {
        handles.push_back(lt->call_soon_threadsafe([&ran, i] {
          ran.push_back(i);
          throw std::runtime_error("thrown on purpose");
        }));
      } else if (i == large) {
        std::array<char, 256> padding{};
        handles.push_back(lt->call_soon_threadsafe([&ran, i, alive, padding] {
          ran.push_back(i + padding[0]);
          throw std::runtime_error("thrown on purpose");
        }));
      } else {
        handles.push_back(lt->call_soon_threadsafe([&ran, i] { ran.push_back(i); }));
      }
    }
    EXPECT_TRUE(handles[cancelled].cancel()) << "no drain has claimed it yet";
    release->set_value();
    held.get(bound);
    std::vector<int> want;
    for (int i = 0; i < 60; ++i) {
      if (i != cancelled) want.push_back(i);
    }
    EXPECT_EQ(lt->submit([&ran] { return std::exchange(ran, {}); }).get(bound), want) << "round " << round;
    EXPECT_EQ(reported.load(), 2 * (round + 1));
    EXPECT_EQ(alive.use_count(), 1) << "the large throwing callable was not destroyed";
  }
  auto [held, release] = hold_loop();
  int accepted = 0;
  while (accepted <= 64 && lt->try_call_soon_threadsafe([] {}) == SubmitStatus::accepted) ++accepted;
  release->set_value();
  held.get(bound);
  EXPECT_EQ(accepted, 64) << "cells were left taken";
}

// Busy time can only be checked against the wall time the test itself measures: a loop that
// counted its idle waits as busy would show (nearly) the whole idle period.
TEST(Loop, BusyTimeCountsCallbacksAndTaskStepsButNotIdleWaiting) {
  LoopThread lt;
  (void)lt->submit([] {}).get(bound);
  const auto idle_busy = lt->stats().busy;
  const auto idle_from = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(100ms);  // the loop waits for work: not busy
  const auto idle_busy_after = lt->stats().busy;
  const auto idle_took = std::chrono::steady_clock::now() - idle_from;
  EXPECT_LT(idle_busy_after - idle_busy, idle_took / 2) << "idle waiting was counted as busy";

  (void)lt->submit([] { std::this_thread::sleep_for(60ms); }).get(bound);
  auto f = lt->run_coroutine_threadsafe([]() -> asio::awaitable<void> {
    co_await sleep_for(1ms);
    std::this_thread::sleep_for(40ms);  // a busy task step
  }());
  f.get(bound);
  // The step's time is added when it ends, just after the future completes; sleeps are lower
  // bounds, so at least 100 ms of work is counted.
  EXPECT_TRUE(eventually([&] { return lt->stats().busy - idle_busy_after >= 100ms; }));
}

TEST(Loop, StatsCountAcceptedRunAndTasks) {
  LoopThread lt;
  for (int i = 0; i < 10; ++i) (void)lt->submit([] {}).get(bound);
  auto f = lt->run_coroutine_threadsafe([]() -> asio::awaitable<int> { co_return 1; }());
  EXPECT_EQ(f.get(bound), 1);
  const auto s = lt->stats();
  EXPECT_GE(s.callbacks_run, 11u);
  EXPECT_EQ(s.tasks_started, 1u);
  EXPECT_EQ(s.tasks_done_ok, 1u);
  EXPECT_EQ(s.tasks_active, 0u);
  EXPECT_TRUE(s.running);
}

TEST(Loop, CloseCancelsTasksThatOutliveTheGraceAndReportsThem) {
  Loop loop;
  auto sleeper = loop.run_coroutine_threadsafe(sleep_for(10s), "sleeper");
  auto quick = loop.run_coroutine_threadsafe([]() -> asio::awaitable<int> { co_return 3; }(), "quick");
  const auto report = loop.close(50ms, 1s);
  EXPECT_EQ(quick.get(bound), 3);
  EXPECT_THROW(sleeper.get(bound), CancelledError);
  EXPECT_EQ(report.tasks_completed, 1u);
  EXPECT_EQ(report.tasks_cancelled, 1u);
  EXPECT_EQ(report.tasks_abandoned, 0u);
  EXPECT_FALSE(report.graceful());
}

TEST(Loop, CloseFromItsOwnThreadIsAClearError) {
  LoopThread lt;
  auto f = lt->submit([&] {
    try {
      Loop::current().close();
    } catch (const WrongThreadError&) {
      return true;
    }
    return false;
  });
  EXPECT_TRUE(f.get(bound));
}

TEST(Loop, OptionsOutOfRangeAreInvalidArgumentNamingTheField) {
  LoopOptions huge;
  huge.submit_queue_capacity = static_cast<std::size_t>(-1);
  try {
    Loop loop(huge);
    ADD_FAILURE() << "accepted a queue of 2^64 cells";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("submit_queue_capacity"), std::string::npos) << e.what();
  }
  LoopOptions negative;
  negative.slow_callback_threshold = std::chrono::milliseconds(-1);
  EXPECT_THROW(Loop{negative}, std::invalid_argument);
}

TEST(BlockingPool, OptionsOutOfRangeAreInvalidArgument) {
  BlockingPoolOptions none_pending;
  none_pending.max_pending = 0;
  EXPECT_THROW(BlockingPool{none_pending}, std::invalid_argument);
  BlockingPoolOptions too_many;
  too_many.threads = static_cast<std::size_t>(-3);
  EXPECT_THROW(BlockingPool{too_many}, std::invalid_argument);
}

TEST(Supervisor, OptionsOutOfRangeAreInvalidArgumentBeforeAnyThreadStarts) {
  SupervisorOptions options;
  options.loops = static_cast<std::size_t>(-1);
  EXPECT_THROW(Supervisor{options}, std::invalid_argument);
  SupervisorOptions grace;
  grace.shutdown_grace = std::chrono::milliseconds(-5);
  EXPECT_THROW(Supervisor{grace}, std::invalid_argument);
  SupervisorOptions watchdog;
  watchdog.watchdog.stall_threshold = std::chrono::milliseconds(-1);
  EXPECT_THROW(Supervisor{watchdog}, std::invalid_argument);
}

}  // namespace
}  // namespace loopvisor::test
