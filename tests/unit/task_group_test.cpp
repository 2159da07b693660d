// TaskGroup: waits for all, cancels siblings on failure, reports every error, parent cancel.
#include "loopvisor/task_group.hpp"

#include <gtest/gtest.h>

#include "loopvisor/sleep.hpp"
#include "loopvisor/sync/event.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

asio::awaitable<void> fail_while_cancelled(std::string what) {
  try {
    co_await loopvisor::sleep(10s);
  } catch (...) {
  }
  throw std::runtime_error(what);  // fails during its own cancellation: still an error
}

TEST(TaskGroup, WaitReturnsWhenEveryChildIsDone) {
  run_on_loop([]() -> asio::awaitable<void> {
    TaskGroup group;
    auto a = group.create_task(value_after(5ms, 1));
    auto b = group.create_task(value_after(1ms, 2));
    co_await group.wait();
    EXPECT_EQ(a.result() + b.result(), 3);
  });
}

TEST(TaskGroup, FirstFailureCancelsSiblingsAndEveryErrorIsReported) {
  run_on_loop([]() -> asio::awaitable<void> {
    TaskGroup group;
    auto sleeper = group.create_task(value_after(10s, 0));
    group.create_task(fail_after(2ms, "first"));
    group.create_task(fail_while_cancelled("second"));
    try {
      co_await group.wait();
      ADD_FAILURE() << "expected ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
      std::vector<std::string> whats;
      for (auto& e : eg.exceptions()) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          whats.push_back(x.what());
        }
      }
      EXPECT_EQ(whats, (std::vector<std::string>{"first", "second"}));
    }
    EXPECT_TRUE(sleeper.cancelled());
    EXPECT_THROW((void)group.create_task(value_after(0ms, 1)), InvalidStateError);
  });
}

asio::awaitable<void> parent_with_group(bool* children_cancelled) {
  TaskGroup group;
  auto a = group.create_task(value_after(10s, 1));
  auto b = group.create_task(value_after(10s, 2));
  try {
    co_await group.wait();
  } catch (const CancelledError&) {
    *children_cancelled = a.cancelled() && b.cancelled();
    throw;
  }
}

TEST(TaskGroup, CancellingTheParentCancelsAndAwaitsTheChildren) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool children_cancelled = false;
    auto parent = create_task(parent_with_group(&children_cancelled));
    co_await loopvisor::sleep(2ms);
    parent.cancel();
    EXPECT_THROW(co_await parent.async_wait(), CancelledError);
    EXPECT_TRUE(children_cancelled) << "children had ended before the parent's CancelledError";
  });
}

TEST(TaskGroup, AChildCancelledFromOutsideIsNotAFailureOfTheGroup) {
  run_on_loop([]() -> asio::awaitable<void> {
    TaskGroup group;
    auto victim = group.create_task(value_after(10s, 0));
    auto other = group.create_task(value_after(5ms, 2));
    Loop::current().call_later(1ms, [victim]() mutable { victim.cancel(); });
    co_await group.wait();  // no ExceptionGroup
    EXPECT_TRUE(victim.cancelled());
    EXPECT_EQ(other.result(), 2);
  });
}

TEST(TaskGroup, CreateTaskAfterWaitIsAClearError) {
  run_on_loop([]() -> asio::awaitable<void> {
    TaskGroup group;
    co_await group.wait();
    EXPECT_THROW((void)group.create_task(value_after(0ms, 1)), InvalidStateError);
  });
}

// The parent's own code inside the block: a long sleep that a child's failure must interrupt.
asio::awaitable<void> long_body(bool* interrupted) {
  try {
    co_await loopvisor::sleep(10s);
  } catch (const CancelledError&) {
    *interrupted = true;
    throw;
  }
}

asio::awaitable<int> parent_running_a_block(bool* interrupted) {
  TaskGroup group;
  group.create_task(fail_after(1ms, "child failed"));
  try {
    co_await group.run(long_body(interrupted));
  } catch (const ExceptionGroup& eg) {
    co_return static_cast<int>(eg.exceptions().size());
  }
  co_return 0;
}

TEST(TaskGroup, AChildFailureCancelsTheParentsOwnCodeBeforeWait) {
  run_on_loop([]() -> asio::awaitable<void> {
    bool interrupted = false;
    auto parent = create_task(parent_running_a_block(&interrupted));
    EXPECT_EQ(co_await parent.async_wait(), 1);
    EXPECT_TRUE(interrupted) << "the parent's sleep ran to its end";
    EXPECT_EQ(parent.status(), TaskStatus::done) << "the group's own cancel of its parent was withdrawn";
  });
}

// Waits in the block until a child has failed, then the test cancels it from outside while
// the group is still waiting for a slow-to-unwind sibling.
asio::awaitable<int> parent_catching_the_group(Event* failing, int* cancelling_after) {
  TaskGroup group;
  group.create_task([](Event* f) -> asio::awaitable<int> {
    co_await loopvisor::sleep(1ms);
    f->set();
    throw std::runtime_error("child failed");
  }(failing));
  group.create_task([]() -> asio::awaitable<int> {
    bool cancelled = false;
    try {
      co_await loopvisor::sleep(10s);
    } catch (const CancelledError&) {
      cancelled = true;
    }
    if (cancelled) {
      co_await asio::this_coro::reset_cancellation_state();
      co_await loopvisor::sleep(5ms);  // slow to unwind: the outside cancel lands meanwhile
    }
    co_return 0;
  }());
  try {
    co_await group.wait();
  } catch (const ExceptionGroup&) {
    *cancelling_after = current_task().cancelling();
    co_return 1;  // returns without another await: the pending outside cancel still wins
  }
  co_return 0;
}

TEST(TaskGroup, AnOutsideCancelWhileTheGroupFailsIsNotSwallowedByTheExceptionGroup) {
  run_on_loop([]() -> asio::awaitable<void> {
    Event failing;
    int cancelling_after = -1;
    auto parent = create_task(parent_catching_the_group(&failing, &cancelling_after));
    co_await failing.wait();
    co_await yield_now();
    EXPECT_TRUE(parent.cancel());
    EXPECT_THROW((void)co_await parent.async_wait(), CancelledError);
    EXPECT_TRUE(parent.cancelled());
    EXPECT_EQ(cancelling_after, 1);
  });
}

TEST(TaskGroup, SizeCountsOnlyLiveChildren) {
  run_on_loop([]() -> asio::awaitable<void> {
    TaskGroup group;
    auto quick = group.create_task(value_after(0ms, 1));
    auto slow = group.create_task(value_after(10s, 2));
    EXPECT_EQ(group.size(), 2u);
    (void)co_await quick.async_wait();
    EXPECT_EQ(group.size(), 1u);
    slow.cancel();
    co_await group.wait();
    EXPECT_EQ(group.size(), 0u);
  });
}

TEST(TaskGroup, RunRaisesTheBodysOwnErrorInTheExceptionGroupAfterCancellingChildren) {
  run_on_loop([]() -> asio::awaitable<void> {
    TaskGroup group;
    auto child = group.create_task(value_after(10s, 1));
    try {
      co_await group.run([]() -> asio::awaitable<void> {
        co_await loopvisor::sleep(1ms);
        throw std::runtime_error("body failed");
      }());
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const ExceptionGroup& eg) {
      EXPECT_EQ(eg.exceptions().size(), 1u);
    }
    EXPECT_TRUE(child.cancelled());
  });
}

}  // namespace
}  // namespace loopvisor::test
