// TaskGroup: waits for all, cancels siblings on failure, reports every error, parent cancel.
#include "loopvisor/task_group.hpp"

#include <gtest/gtest.h>

#include "loopvisor/sleep.hpp"
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

}  // namespace
}  // namespace loopvisor::test
