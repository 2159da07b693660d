// Task<T>: states, results, cancellation, done callbacks, diagnostics, current_task.
#include "loopvisor/task.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <utility>
#include <vector>

#include "loopvisor/loop.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<void> set_flag(bool* flag) {
  *flag = true;
  co_return;
}

// Parameters (not lambda captures) live in the coroutine frame.
asio::awaitable<int> await_task(Task<int> task) { co_return co_await task.async_wait(); }

TEST(Task, IsPendingUntilTheLoopRunsItThenDone) {
  auto states = run_on_loop([]() -> asio::awaitable<std::vector<TaskStatus>> {
    std::vector<TaskStatus> seen;
    auto task = create_task(value_after(0ms, 1));
    seen.push_back(task.status());  // not started: its first step is queued
    co_await task.async_wait();
    seen.push_back(task.status());
    co_return seen;
  });
  EXPECT_EQ(states, (std::vector<TaskStatus>{TaskStatus::pending, TaskStatus::done}));
}

TEST(Task, ResultReturnsTheValueAndThrowsInvalidStateWhilePending) {
  auto r = run_on_loop([]() -> asio::awaitable<int> {
    auto task = create_task(value_after(10ms, 42), "answer");
    EXPECT_THROW((void)task.result(), InvalidStateError);
    EXPECT_EQ(task.name(), "answer");
    const int awaited = co_await task.async_wait();
    EXPECT_EQ(awaited, 42);
    co_return task.result();
  });
  EXPECT_EQ(r, 42);
}

TEST(Task, ExceptionPropagatesToAwaiterAndResult) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto task = create_task(fail_after(1ms));
    EXPECT_THROW((void)co_await task.async_wait(), std::runtime_error);
    EXPECT_EQ(task.status(), TaskStatus::done);
    EXPECT_THROW((void)task.result(), std::runtime_error);
    EXPECT_NE(task.exception(), nullptr);
  });
}

TEST(Task, CancelEndsASleepingTaskCancelledAndAwaitThrowsCancelledError) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto task = create_task(value_after(10s, 1));
    // Its first step ran (it is suspended in its sleep) once its status is running.
    co_await until([&] { return task.status() == TaskStatus::running; });
    EXPECT_TRUE(task.cancel());
    EXPECT_THROW((void)co_await task.async_wait(), CancelledError);
    EXPECT_TRUE(task.cancelled());
    EXPECT_FALSE(task.cancel()) << "cancel() of an ended task returns false";
    EXPECT_THROW((void)task.result(), CancelledError);
  });
}

TEST(Task, CancelBeforeFirstStepNeverRunsTheBody) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool ran = false;
    auto task = create_task(set_flag(&ran));
    EXPECT_TRUE(task.cancel());
    EXPECT_THROW(co_await task.async_wait(), CancelledError);
    EXPECT_FALSE(ran);
    EXPECT_EQ(task.status(), TaskStatus::cancelled);
  });
}

TEST(Task, TaskThatSwallowsCancellationEndsDone) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto task = create_task([]() -> asio::awaitable<int> {
      try {
        co_await sleep_for(10s);
      } catch (const boost::system::system_error&) {
        co_return 7;  // cleaned up and carried on, as asyncio allows
      }
      co_return 0;
    }());
    co_await until([&] { return task.status() == TaskStatus::running; });  // suspended in its sleep
    EXPECT_TRUE(task.cancel());
    EXPECT_EQ(co_await task.async_wait(), 7);
    EXPECT_EQ(task.status(), TaskStatus::done);
  });
}

TEST(Task, CancellingTheAwaiterCancelsTheAwaitedTask) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto inner = create_task(value_after(10s, 1), "inner");
    auto outer = create_task(await_task(inner), "outer");
    co_await until(
        [&] { return outer.status() == TaskStatus::running && inner.status() == TaskStatus::running; });
    EXPECT_TRUE(outer.cancel());
    EXPECT_THROW((void)co_await outer.async_wait(), CancelledError);
    EXPECT_TRUE(inner.cancelled());
  });
}

TEST(Task, DoneCallbacksRunOnTheLoopInRegistrationOrderEvenIfAddedLate) {
  run_on_loop([]() -> asio::awaitable<void> {
    std::vector<int> order;
    auto task = create_task(value_after(1ms, 5));
    task.add_done_callback([&](Task<int> t) { order.push_back(t.result()); });
    task.add_done_callback([&](Task<int>) { order.push_back(2); });
    co_await task.async_wait();
    task.add_done_callback([&](Task<int>) { order.push_back(3); });
    EXPECT_TRUE(order.size() <= 2u) << "callbacks are scheduled, never run inline";
    co_await yield_now();  // the late callback was queued before this resumption
    EXPECT_EQ(order, (std::vector<int>{5, 2, 3}));
  });
}

TEST(Task, AThrowingDoneCallbackIsReportedAndTheOthersStillRun) {
  std::vector<std::string> reports;
  std::mutex mu;
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext& c) {
    std::lock_guard g(mu);
    reports.push_back(describe(c));
  };
  run_on_loop(
      []() -> asio::awaitable<void> {
        auto order = std::make_shared<std::vector<int>>();
        auto task = create_task(value_after(1ms, 5));
        task.add_done_callback([order](Task<int>) {
          order->push_back(1);
          throw std::runtime_error("done callback failed");
        });
        task.add_done_callback([order](Task<int>) { order->push_back(2); });
        EXPECT_EQ(co_await task.async_wait(), 5);
        // Named first: GCC 12 miscompiles a lambda capturing by copy inside a co_await
        // expression (it destroyed the captured shared_ptr twice; TSan saw the use after free).
        auto both_ran = [order] { return order->size() == 2; };
        co_await until(both_ran);
        EXPECT_EQ(*order, (std::vector<int>{1, 2}));
      },
      options);
  std::lock_guard g(mu);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("done callback failed"), std::string::npos) << reports[0];
}

TEST(Task, CurrentTaskFollowsTheTaskAcrossAwaits) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto probe = [](std::chrono::milliseconds d) -> asio::awaitable<std::uint64_t> {
      const auto before = current_task().id();
      co_await sleep_for(d);
      EXPECT_EQ(current_task().id(), before);
      co_return current_task().id();
    };
    auto a = create_task(probe(5ms), "a");
    auto b = create_task(probe(1ms), "b");
    EXPECT_EQ(co_await a.async_wait(), a.id());
    EXPECT_EQ(co_await b.async_wait(), b.id());
  });
}

TEST(Task, AllTasksListsLiveTasksOnly) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto a = create_task(value_after(50ms, 1), "long");
    auto b = create_task(value_after(0ms, 2), "short");
    co_await b.async_wait();
    auto live = Loop::current().all_tasks();
    bool has_long = false, has_short = false;
    for (auto& info : live) {
      has_long |= info.name == "long";
      has_short |= info.name == "short";
    }
    EXPECT_TRUE(has_long);
    EXPECT_FALSE(has_short);
    a.cancel();
  });
}

TEST(Task, UnretrievedExceptionIsReportedWhenTheLastHandleGoes) {
  std::vector<std::string> reports;
  std::mutex mu;
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext& c) {
    std::lock_guard g(mu);
    reports.push_back(c.message + "|" + c.task_name);
  };
  run_on_loop(
      []() -> asio::awaitable<void> {
        {
          auto t = create_task(fail_after(0ms), "forgotten");
          co_await until([&] { return t.done(); });
        }  // last handle dropped here
        co_return;
      },
      options);
  std::lock_guard g(mu);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], "Task exception was never retrieved|forgotten");
}

TEST(Task, DiagnosticsNameWhereTheTaskWasCreated) {
  std::string report;
  std::mutex mu;
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext& c) {
    std::lock_guard g(mu);
    report = describe(c);
  };
  const int line = __LINE__ + 3;
  run_on_loop(
      []() -> asio::awaitable<void> {
        auto t = create_task(fail_after(0ms), "leaky");
        EXPECT_NE(t.info().origin.find("task_test.cpp:"), std::string::npos);
        co_await until([&] { return t.done(); });
      },
      options);
  std::lock_guard g(mu);
  EXPECT_NE(report.find("created at task_test.cpp:" + std::to_string(line)), std::string::npos) << report;
}

TEST(Task, RetrievedExceptionIsNotReported) {
  std::atomic<int> reports{0};
  LoopOptions options;
  options.exception_handler = [&](const ExceptionContext&) { ++reports; };
  run_on_loop(
      []() -> asio::awaitable<void> {
        auto t = create_task(fail_after(0ms));
        EXPECT_THROW(co_await t.async_wait(), std::runtime_error);
      },
      options);
  EXPECT_EQ(reports.load(), 0);
}

TEST(Task, CreateTaskOffLoopIsAClearError) {
  Loop loop;
  EXPECT_THROW((void)loop.create_task(value_after(0ms, 1)), WrongThreadError);
  EXPECT_THROW((void)create_task(value_after(0ms, 1)), WrongThreadError);
}

asio::awaitable<int> await_directly(Task<int> task) { co_return co_await task; }

TEST(Task, CoAwaitOfTheTaskItselfYieldsItsValueOrRethrows) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto ok = create_task(value_after(1ms, 7));
    const int v = co_await ok;
    EXPECT_EQ(v, 7);
    auto failing = create_task(fail_after(1ms, "boom"));
    EXPECT_THROW((void)co_await failing, std::runtime_error);
    bool ran = false;
    auto nothing = create_task(set_flag(&ran));
    co_await nothing;
    EXPECT_TRUE(ran);
    auto done_already = create_task(value_after(0ms, 3));
    co_await yield_now();
    co_await yield_now();
    EXPECT_TRUE(done_already.done());
    const int again = co_await done_already;
    EXPECT_EQ(again, 3) << "a finished task yields its value to a later await";
  });
}

// Every awaiter of an ended task gets its outcome: the value, the error, or CancelledError,
// however many await it and however often.
TEST(Task, EachAwaiterOfAnEndedTaskGetsItsValueErrorOrCancellation) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto ok = create_task(value_after(0ms, 4));
    auto failed = create_task(fail_after(0ms, "boom"));
    auto cancelled = create_task(value_after(10s, 1));
    co_await yield_now();
    cancelled.cancel();
    co_await until([&] { return ok.done() && failed.done() && cancelled.done(); });
    std::vector<Task<int>> awaiters;
    for (int i = 0; i < 3; ++i) {
      awaiters.push_back(create_task(await_directly(ok)));
      awaiters.push_back(create_task(await_directly(failed)));
      awaiters.push_back(create_task(await_directly(cancelled)));
    }
    for (std::size_t i = 0; i < awaiters.size(); i += 3) {
      const int v = co_await awaiters[i];
      EXPECT_EQ(v, 4);
      EXPECT_THROW((void)co_await awaiters[i + 1], std::runtime_error);
      EXPECT_THROW((void)co_await awaiters[i + 2], CancelledError);
    }
    const int again = co_await ok;
    EXPECT_EQ(again, 4) << "and again, from the test's own task";
    EXPECT_THROW((void)co_await failed, std::runtime_error);
  });
}

// A task's state is read on its own loop only: awaiting it from another loop is a clear error,
// whether the task still runs or has ended (an ended task's await takes a shorter path).
TEST(Task, AwaitingATaskOfAnotherLoopRaisesWrongThreadErrorRunningOrEnded) {
  LoopThread other;
  auto tasks = other
                   ->submit([]() -> asio::awaitable<std::pair<Task<int>, Task<int>>> {
                     auto running = create_task(value_after(10s, 1));
                     auto ended = create_task(value_after(0ms, 2));
                     co_await until([&] { return ended.done(); });
                     co_return std::pair{running, ended};
                   })
                   .get(bound);
  run_on_loop([&]() -> asio::awaitable<void> {
    EXPECT_THROW((void)co_await tasks.first, WrongThreadError);
    EXPECT_THROW((void)co_await tasks.second, WrongThreadError);
  });
  // The handles go on their own loop, the running task cancelled.
  other
      ->submit([owned = std::move(tasks)]() mutable {
        owned.first.cancel();
        owned = {};
      })
      .get(bound);
}

// Not a task: a coroutine spawned on the loop's plain executor awaits an ended task too.
TEST(Task, ACoroutineThatIsNoTaskAwaitsAnEndedTask) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto ended = create_task(value_after(0ms, 5));
    co_await until([&] { return ended.done(); });
    const int v =
        co_await asio::co_spawn(Loop::current().get_executor(), await_directly(ended), asio::use_awaitable);
    EXPECT_EQ(v, 5);
  });
}

TEST(Task, CancellingACoAwaitOfTheTaskCancelsTheTask) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto sleeper = create_task(value_after(10s, 1));
    auto waiter = create_task(await_directly(sleeper));
    co_await until(
        [&] { return waiter.status() == TaskStatus::running && sleeper.status() == TaskStatus::running; });
    EXPECT_TRUE(waiter.cancel("stop"));
    EXPECT_THROW((void)co_await waiter, CancelledError);
    EXPECT_TRUE(sleeper.cancelled()) << "awaiting a task and being cancelled cancels the task";
  });
}

// While a task runs, its signal holds the cancellation state of its coroutine stack (what a
// cancel reaches its awaits through); when the stack ends it is freed at once, not when the
// last Task handle goes, so the next task's launch can reuse its memory.
TEST(Task, ItsStacksCancellationStateLivesAsLongAsTheStackNotTheHandle) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto t = create_task(value_after(10ms, 4));
    auto& signal = detail::state_of(t)->signal();
    co_await yield_now();  // its first step ran: it sleeps
    EXPECT_EQ(t.status(), TaskStatus::running);
    EXPECT_TRUE(signal.slot().has_handler()) << "a running task's stack has no cancellation state";
    const int v = co_await t;
    EXPECT_EQ(v, 4);
    EXPECT_FALSE(signal.slot().has_handler())
        << "an ended task's handle keeps its stack's cancellation state";
    // A task cancelled before its first step never had a stack.
    auto never = create_task(value_after(10ms, 5));
    EXPECT_TRUE(never.cancel());
    EXPECT_THROW((void)co_await never, CancelledError);
    EXPECT_FALSE(detail::state_of(never)->signal().slot().has_handler());
  });
}

// The await of an ended task is queued on the awaiter's executor and watches the awaiter's
// cancellation slot while queued: destroyed unrun (its executor's context went away), it
// leaves that slot empty; cancelled while queued, it completes with CancelledError.
TEST(Task, AnAwaitOfAnEndedTaskWatchesTheCallersSlotOnlyWhileQueued) {
  asio::cancellation_signal signal;
  int completions = 0;
  std::exception_ptr error;
  run_on_loop([&]() -> asio::awaitable<void> {
    auto ended = create_task(value_after(0ms, 3));
    co_await until([&] { return ended.done(); });
    auto handler = [&](asio::io_context& context) {
      return asio::bind_cancellation_slot(signal.slot(),
                                          asio::bind_executor(context, [&](std::exception_ptr e, int) {
                                            ++completions;
                                            error = e;
                                          }));
    };
    {
      asio::io_context never_run;
      ended(handler(never_run));
      EXPECT_TRUE(signal.slot().has_handler());
    }
    EXPECT_FALSE(signal.slot().has_handler()) << "destroyed unrun, it let go of the slot";
    EXPECT_EQ(completions, 0);
    asio::io_context later;
    ended(handler(later));
    signal.emit(asio::cancellation_type::terminal);
    later.run();
    EXPECT_EQ(completions, 1);
    EXPECT_THROW(std::rethrow_exception(error), CancelledError);
    EXPECT_FALSE(signal.slot().has_handler());
  });
}

// asyncio: a task's default name is "Task-<n>"; set_name replaces it, whatever the value; a
// cancel message, a name and a completion hook each need no more than the task asks for.
TEST(Task, DefaultNameIsTaskAndItsIdAndSetNameReplacesIt) {
  run_on_loop([]() -> asio::awaitable<void> {
    auto unnamed = create_task(value_after(1ms, 1));
    EXPECT_EQ(unnamed.name(), "Task-" + std::to_string(unnamed.id()));
    unnamed.set_name("worker");
    EXPECT_EQ(unnamed.name(), "worker");
    unnamed.set_name("");
    EXPECT_EQ(unnamed.name(), "");
    auto named = create_task(value_after(1ms, 2), "fetcher");
    EXPECT_EQ(named.name(), "fetcher");
    EXPECT_EQ(named.info().name, "fetcher");
    co_await unnamed;
    co_await named;

    auto sleeper = create_task(value_after(10s, 3));
    co_await loopvisor::sleep(0ms);
    sleeper.cancel();
    const std::string expected = "task 'Task-" + std::to_string(sleeper.id()) + "' (#" +
                                 std::to_string(sleeper.id()) + ") was cancelled";
    try {
      (void)co_await sleeper;
      ADD_FAILURE() << "the cancelled task returned";
    } catch (const CancelledError& e) {
      EXPECT_EQ(std::string(e.what()), expected);
    }
    sleeper.set_name("renamed");
    try {
      (void)sleeper.result();
      ADD_FAILURE() << "result() of a cancelled task returned";
    } catch (const CancelledError& e) {
      EXPECT_EQ(std::string(e.what()),
                "task 'renamed' (#" + std::to_string(sleeper.id()) + ") was cancelled");
    }
  });
}

}  // namespace
}  // namespace loopvisor::test
