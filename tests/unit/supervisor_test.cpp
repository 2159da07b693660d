// Supervisor: loop threads, placement, accounting under load, graceful shutdown.
#include "loopvisor/supervisor.hpp"

#include "loopvisor/cpu_count.hpp"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace loopvisor::test {
namespace {

SupervisorOptions with_loops(std::size_t n) {
  SupervisorOptions o;
  o.loops = n;
  return o;
}

std::string thread_name() {
  char buf[32] = {};
  pthread_getname_np(pthread_self(), buf, sizeof buf);
  return buf;
}

TEST(Supervisor, StartsOneNamedThreadPerLoop) {
  Supervisor sup(with_loops(3));
  ASSERT_EQ(sup.size(), 3u);
  std::set<std::thread::id> threads;
  for (std::size_t i = 0; i < 3; ++i) {
    auto [name, id, index] =
        sup.loop(i)
            .submit([] {
              return std::make_tuple(thread_name(), std::this_thread::get_id(), Loop::current().index());
            })
            .get(bound);
    EXPECT_EQ(name, "lv-loop-" + std::to_string(i));
    EXPECT_EQ(index, i);
    threads.insert(id);
    EXPECT_TRUE(sup.loop(i).is_running());
  }
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_THROW((void)sup.loop(3), std::out_of_range);
}

TEST(Supervisor, ZeroLoopsMeansOnePerUsableCpu) {
  Supervisor sup(with_loops(0));
  EXPECT_EQ(sup.size(), process_cpu_count());  // cpu_count_test narrows the mask and the quota
}

// A configuration reload changes the slow-callback and stall thresholds of a running
// supervisor: each only fires after the change.
TEST(Supervisor, ThresholdsChangeWhileRunning) {
  SupervisorOptions options = with_loops(1);
  options.slow_callback_threshold = std::chrono::hours(1);
  options.watchdog.interval = 10ms;
  options.watchdog.stall_threshold = std::chrono::hours(1);
  Supervisor sup(options);
  EXPECT_THROW(sup.set_slow_callback_threshold(-1ms), std::invalid_argument);
  EXPECT_THROW(sup.set_stall_threshold(-1ms), std::invalid_argument);
  EXPECT_EQ(sup.stall_threshold(), std::chrono::hours(1));

  sup.loop(0).submit([] { std::this_thread::sleep_for(30ms); }).get(bound);
  EXPECT_EQ(sup.loop(0).stats().slow_callbacks, 0u);
  sup.set_slow_callback_threshold(1ms);
  sup.loop(0).submit([] { std::this_thread::sleep_for(30ms); }).get(bound);
  EXPECT_TRUE(eventually(
      [&] { return sup.loop(0).stats().slow_callbacks >= 1; }));  // others may be slow too under a sanitizer

  // Hold the loop until the watchdog, now with a 50 ms threshold, calls it stalled.
  sup.set_stall_threshold(50ms);
  EXPECT_EQ(sup.stall_threshold(), 50ms);
  std::atomic<bool> release{false};
  sup.loop(0).call_soon_threadsafe([&release] {
    while (!release.load()) std::this_thread::sleep_for(1ms);
  });
  const bool stalled = eventually([&] { return sup.loop(0).stats().stalled; });
  release = true;
  EXPECT_TRUE(stalled) << "the lowered stall threshold was not used";
  EXPECT_TRUE(eventually([&] { return !sup.loop(0).stats().stalled; }));
  (void)sup.shutdown();
}

// Turning slow-callback detection off (threshold 0, as a reload may) while a step runs must
// not report that step: its end used to compare its time with the new threshold, zero, and
// call anything measurable slow. Each way a loop runs code: a drained cross-thread callback, a
// task step, a call_soon callback. The probe after each runs once the step was judged.
TEST(Supervisor, DetectionTurnedOffWhileAStepRunsDoesNotReportIt) {
  SupervisorOptions options = with_loops(1);
  options.slow_callback_threshold = 100ms;
  Supervisor sup(options);
  Loop& loop = sup.loop(0);
  const auto off_then_hold = [&sup] {
    sup.set_slow_callback_threshold(0ms);
    std::this_thread::sleep_for(150ms);
  };
  const auto probe = [&loop] { loop.submit([] {}).get(bound); };

  loop.submit(off_then_hold).get(bound);
  probe();
  EXPECT_EQ(loop.stats().slow_callbacks, 0u) << "a drained callback";

  sup.set_slow_callback_threshold(100ms);
  loop.run_coroutine_threadsafe([&]() -> asio::awaitable<void> {
        off_then_hold();
        co_return;
      }())
      .get(bound);
  probe();
  EXPECT_EQ(loop.stats().slow_callbacks, 0u) << "a task step";

  sup.set_slow_callback_threshold(100ms);
  loop.submit([&] { Loop::current().call_soon(off_then_hold); }).get(bound);
  probe();
  EXPECT_EQ(loop.stats().slow_callbacks, 0u) << "a call_soon callback";

  // And with detection on, the same hold is reported: the paths above were measured.
  sup.set_slow_callback_threshold(100ms);
  loop.submit([] { std::this_thread::sleep_for(150ms); }).get(bound);
  probe();
  EXPECT_EQ(loop.stats().slow_callbacks, 1u);
}

TEST(Supervisor, RoundRobinSpreadsSubmissionsOverLoops) {
  Supervisor sup(with_loops(4));
  std::vector<ThreadFuture<std::size_t>> futures;
  for (int i = 0; i < 8; ++i) futures.push_back(sup.submit([] { return Loop::current().index(); }));
  std::vector<int> per_loop(4, 0);
  for (auto& f : futures) ++per_loop[f.get(bound)];
  EXPECT_EQ(per_loop, (std::vector<int>{2, 2, 2, 2}));
}

TEST(Supervisor, LeastLoadedAvoidsABusyLoop) {
  SupervisorOptions o = with_loops(2);
  o.placement = Placement::least_loaded;
  Supervisor sup(o);
  Signal release;
  // Make loop 0 busy: one blocked callback and many queued behind it.
  sup.loop(0).call_soon_threadsafe([&] { release.wait(); });
  for (int i = 0; i < 50; ++i) sup.loop(0).call_soon_threadsafe([] {});
  std::vector<ThreadFuture<std::size_t>> futures;
  for (int i = 0; i < 10; ++i) futures.push_back(sup.submit([] { return Loop::current().index(); }));
  release.set();
  for (auto& f : futures) EXPECT_EQ(f.get(bound), 1u);
}

TEST(Supervisor, SameKeyAlwaysPicksTheSameLoop) {
  Supervisor sup(with_loops(4));
  EXPECT_EQ(&sup.loop_for_key("user-17"), &sup.loop_for_key("user-17"));
  EXPECT_EQ(&sup.loop_for_key(std::uint64_t{99}), &sup.loop_for_key(std::uint64_t{99}));
  std::set<const Loop*> used;
  for (std::uint64_t k = 0; k < 64; ++k) used.insert(&sup.loop_for_key(k));
  EXPECT_EQ(used.size(), 4u) << "keys spread over all loops";
}

TEST(Supervisor, PinsLoopsToConfiguredCpus) {
  SupervisorOptions o = with_loops(2);
  o.cpu_affinity = {0};
  Supervisor sup(o);
  for (std::size_t i = 0; i < 2; ++i) {
    int cpus = sup.loop(i)
                   .submit([] {
                     cpu_set_t set;
                     CPU_ZERO(&set);
                     pthread_getaffinity_np(pthread_self(), sizeof set, &set);
                     return CPU_ISSET(0, &set) ? CPU_COUNT(&set) : -1;
                   })
                   .get(bound);
    EXPECT_EQ(cpus, 1);
  }
}

TEST(Supervisor, InvalidCpuIsAClearError) {
  SupervisorOptions o = with_loops(1);
  o.cpu_affinity = {100000};
  try {
    Supervisor sup(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CPU 100000"), std::string::npos) << e.what();
  }
}

TEST(Supervisor, BlockingCallbackDelaysItsLoopButNotOthers) {
  Supervisor sup(with_loops(2));
  Signal release;
  sup.loop(0).call_soon_threadsafe([&] { release.wait(); });
  auto behind = sup.loop(0).submit([] { return 1; });
  auto other = sup.loop(1).submit([] { return 2; });
  EXPECT_EQ(other.get(bound), 2) << "loop 1 is not held up";
  EXPECT_FALSE(behind.done()) << "loop 0 is";
  release.set();
  EXPECT_EQ(behind.get(bound), 1);
}

TEST(Supervisor, EveryConcurrentSubmissionIsRunOrRejected) {
  SupervisorOptions o = with_loops(4);
  o.submit_queue_capacity = 1024;
  Supervisor sup(o);
  constexpr int producers = 8;
  constexpr int per_producer = 100000;
  std::atomic<std::uint64_t> ran{0};
  std::atomic<std::uint64_t> rejected{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        try {
          sup.loop((p + i) % 4).call_soon_threadsafe([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
        } catch (const SubmissionRejected&) {
          rejected.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto report = sup.shutdown(10s);
  const std::uint64_t submitted = std::uint64_t{producers} * per_producer;
  EXPECT_EQ(ran.load() + rejected.load(), submitted);
  std::uint64_t stats_rejected = 0;
  for (const auto& s : sup.stats()) stats_rejected += s.submissions_rejected;
  EXPECT_EQ(stats_rejected, rejected.load());
  EXPECT_GT(ran.load(), 0u);
  EXPECT_EQ(report.tasks_abandoned, 0u);
}

TEST(Supervisor, ReportCountsEveryRuntimeClosedCallersSawUnderAStorm) {
  // Regression: ShutdownReport said 14,448 rejected while callers had caught 80,008
  // RuntimeClosed (refusals by the supervisor itself and those after the report were missing).
  SupervisorOptions o = with_loops(4);
  o.submit_queue_capacity = 1024;
  Supervisor sup(o);
  constexpr int producers = 4;
  constexpr int per_producer = 20000;
  std::atomic<std::uint64_t> ran{0}, full{0}, closed{0};
  std::atomic<int> started{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      started.fetch_add(1);
      for (int i = 0; i < per_producer; ++i) {
        try {
          // Both entry points: through the supervisor and straight to a loop.
          auto count = [&ran] { ran.fetch_add(1, std::memory_order_relaxed); };
          if (i % 2 == 0) {
            sup.call_soon_threadsafe(count);
          } else {
            sup.loop((p + i) % 4).call_soon_threadsafe(count);
          }
        } catch (const SubmissionRejected&) {
          full.fetch_add(1, std::memory_order_relaxed);
        } catch (const RuntimeClosed&) {
          closed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  while (started.load() < producers) std::this_thread::yield();
  const auto returned = sup.shutdown(10s);  // while the producers still submit
  for (auto& t : threads) t.join();
  EXPECT_EQ(ran.load() + full.load() + closed.load(), std::uint64_t{producers} * per_producer);
  EXPECT_EQ(sup.report().submissions_rejected, closed.load());
  EXPECT_LE(returned.submissions_rejected, closed.load());
  EXPECT_EQ(sup.report().callbacks_run, returned.callbacks_run);
}

TEST(Supervisor, ShutdownWaitsForTasksThatFinishWithinGrace) {
  Supervisor sup(with_loops(2));
  auto f = sup.run_coroutine_threadsafe([]() -> asio::awaitable<int> {
    co_await sleep_for(30ms);
    co_return 5;
  }());
  const auto report = sup.shutdown(5s);
  EXPECT_EQ(f.get(bound), 5);
  EXPECT_EQ(report.tasks_completed, 1u);
  EXPECT_TRUE(report.graceful());
}

TEST(Supervisor, ShutdownCancelsTasksPastGraceAndEachEndsCancelled) {
  Supervisor sup(with_loops(2));
  std::vector<ThreadFuture<void>> sleepers;
  for (int i = 0; i < 6; ++i) sleepers.push_back(sup.run_coroutine_threadsafe(sleep_for(30s)));
  ASSERT_TRUE(eventually([&] {
    std::uint64_t active = 0;
    for (auto& s : sup.stats()) active += s.tasks_active;
    return active == 6;
  }));
  const auto report = sup.shutdown(20ms);
  EXPECT_EQ(report.tasks_cancelled, 6u);
  EXPECT_EQ(report.tasks_abandoned, 0u);
  for (auto& s : sleepers) EXPECT_THROW(s.get(bound), CancelledError);
  for (auto& s : sup.stats()) EXPECT_EQ(s.tasks_active, 0u);
}

TEST(Supervisor, TaskIgnoringCancellationIsAbandonedAndItsFutureFails) {
  std::atomic<int> destroyed_pending{0};
  SupervisorOptions o = with_loops(1);
  o.cancel_timeout = 50ms;
  o.exception_handler = [&](const ExceptionContext& c) {
    if (c.message == "Task was destroyed but it is pending") ++destroyed_pending;
  };
  ThreadFuture<void> ignores_cancel;
  {
    Supervisor sup(o);
    ignores_cancel = sup.run_coroutine_threadsafe([]() -> asio::awaitable<void> {
      for (;;) {
        bool cancelled = false;
        try {
          co_await sleep_for(10s);
        } catch (...) {
          cancelled = true;
        }
        if (cancelled) co_await asio::this_coro::reset_cancellation_state();  // refuses to stop
      }
    }());
    ASSERT_TRUE(eventually([&] { return sup.loop(0).stats().tasks_active == 1; }));
    const auto report = sup.shutdown(10ms);
    EXPECT_EQ(report.tasks_abandoned, 1u);
  }
  EXPECT_EQ(destroyed_pending.load(), 1);
  EXPECT_THROW(ignores_cancel.get(bound), RuntimeClosed);
}

TEST(Supervisor, SubmitAfterShutdownIsRuntimeClosed) {
  Supervisor sup(with_loops(2));
  sup.shutdown(1s);
  EXPECT_TRUE(sup.is_closed());
  EXPECT_THROW(sup.call_soon_threadsafe([] {}), RuntimeClosed);
  EXPECT_THROW((void)sup.run_coroutine_threadsafe(sleep_for(1ms)), RuntimeClosed);
  EXPECT_THROW(sup.loop(0).call_soon_threadsafe([] {}), RuntimeClosed);
}

TEST(Supervisor, ShutdownIsIdempotentAndSafeFromManyThreads) {
  Supervisor sup(with_loops(2));
  std::vector<std::thread> threads;
  std::atomic<int> done{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      sup.shutdown(1s);
      ++done;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(done.load(), 4);
  for (std::size_t i = 0; i < sup.size(); ++i) EXPECT_FALSE(sup.loop(i).is_running());
}

TEST(Supervisor, ShutdownFromALoopThreadIsAClearError) {
  Supervisor sup(with_loops(1));
  auto f = sup.loop(0).submit([&sup] {
    try {
      sup.shutdown(1s);
    } catch (const WrongThreadError&) {
      return true;
    }
    return false;
  });
  EXPECT_TRUE(f.get(bound));
}

TEST(Supervisor, StrayStopOnASupervisedLoopDoesNotStrandItsWork) {
  Supervisor sup(with_loops(1));
  sup.loop(0).stop();
  EXPECT_EQ(sup.loop(0).submit([] { return 8; }).get(bound), 8);
  EXPECT_EQ(sup.shutdown(1s).tasks_abandoned, 0u);
}

TEST(Supervisor, AllTasksSpansEveryLoop) {
  Supervisor sup(with_loops(2));
  auto a = sup.loop(0).run_coroutine_threadsafe(sleep_for(10s), "on-zero");
  auto b = sup.loop(1).run_coroutine_threadsafe(sleep_for(10s), "on-one");
  ASSERT_TRUE(eventually([&] { return sup.all_tasks().size() == 2; }));
  std::set<std::pair<std::string, std::size_t>> seen;
  for (const auto& t : sup.all_tasks()) seen.emplace(t.name, t.loop_index);
  EXPECT_EQ(seen, (std::set<std::pair<std::string, std::size_t>>{{"on-zero", 0}, {"on-one", 1}}));
  a.cancel();
  b.cancel();
}

thread_local const Loop* tls_set_up_for = nullptr;  // what the start hook set on this thread

TEST(Supervisor, ThreadHooksRunOnEachLoopsOwnThreadBeforeItsWorkAndAfterItFinishes) {
  std::mutex mu;
  std::map<std::size_t, std::thread::id> started, stopped;
  SupervisorOptions options{.loops = 2};
  options.on_loop_thread_start = [&](Loop& loop) {
    tls_set_up_for = &loop;
    std::lock_guard g(mu);
    started[loop.index()] = std::this_thread::get_id();
  };
  options.on_loop_thread_stop = [&](Loop& loop) {
    std::lock_guard g(mu);
    stopped[loop.index()] = std::this_thread::get_id();
  };
  {
    Supervisor sup(options);
    for (std::size_t i = 0; i < 2; ++i) {
      Loop* loop = &sup.loop(i);
      EXPECT_TRUE(loop->submit([loop] { return tls_set_up_for == loop; }).get(bound))
          << "the start hook ran on loop " << i << "'s thread before its first job";
    }
    std::lock_guard g(mu);
    EXPECT_EQ(started.size(), 2u);
    EXPECT_TRUE(stopped.empty()) << "stop hooks wait for shutdown";
  }
  std::lock_guard g(mu);
  EXPECT_EQ(stopped, started) << "each stop hook ran once, on the thread its start hook ran on";
}

TEST(Supervisor, AThrowingStartHookFailsConstructionAndStopsEveryLoop) {
  std::atomic<int> stops{0};
  SupervisorOptions options{.loops = 3};
  options.on_loop_thread_start = [](Loop& loop) {
    if (loop.index() == 1) throw std::runtime_error("arena setup failed");
  };
  options.on_loop_thread_stop = [&](Loop&) { stops.fetch_add(1); };
  try {
    Supervisor sup(options);
    ADD_FAILURE() << "a supervisor was built although a start hook failed";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "arena setup failed");
  }
  EXPECT_EQ(stops.load(), 2) << "every loop stopped and joined; stop hooks only where start succeeded";
}

TEST(Supervisor, AThrowingStopHookIsLoggedAndShutdownCompletes) {
  SupervisorOptions options{.loops = 1};
  std::atomic<bool> stop_ran{false};
  options.on_loop_thread_stop = [&](Loop&) {
    stop_ran = true;
    throw std::runtime_error("flush failed");
  };
  Supervisor sup(options);
  EXPECT_EQ(sup.submit([] { return 2; }).get(bound), 2);
  EXPECT_TRUE(sup.shutdown(1s).graceful()) << "shutdown returned: the thread ended and was joined";
  EXPECT_TRUE(stop_ran.load());
}

}  // namespace
}  // namespace loopvisor::test
