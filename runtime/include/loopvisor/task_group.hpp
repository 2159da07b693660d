// TaskGroup: structured concurrency — children that end together, errors reported together.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>
#include "loopvisor/source_location.hpp"

#include "loopvisor/detail/completion_watch.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/task.hpp"

namespace loopvisor {

namespace detail {
struct GroupState {
  std::vector<std::shared_ptr<TaskBase>> children;
  std::vector<std::exception_ptr> errors;  // in the order children failed
  bool aborting = false;                   // a child failed: siblings were cancelled
  bool closed = false;                     // wait() returned: no more children
  Event changed;                           // a child ended
  std::size_t running = 0;
  void on_child_end(TaskBase& child);
};
}  // namespace detail

/// asyncio.TaskGroup without `async with`: create children, then `co_await group.wait()`.
///
///     loopvisor::TaskGroup group;
///     auto a = group.create_task(fetch("a"));
///     auto b = group.create_task(fetch("b"));
///     co_await group.wait();            // both done, or ExceptionGroup with every error
///
/// - The first child to fail (an exception other than cancellation) cancels every sibling;
///   `wait()` waits for all of them, then raises ExceptionGroup carrying every child's error
///   in the order they failed.
/// - Cancelling the coroutine in `wait()` cancels every child and waits for them to unwind
///   before CancelledError propagates (ExceptionGroup wins if children failed).
/// - After `wait()` returns or raises, `create_task` is InvalidStateError.
/// - Destroying the group without `wait()` cancels the children still running (it cannot
///   wait for them); that is a bug in the caller and is reported to the loop's handler.
///
/// Thread safety: on one loop only.
class TaskGroup {
 public:
  TaskGroup();
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  template <class T>
  [[nodiscard]] Task<T> create_task(
      boost::asio::awaitable<T> coro, std::string name = {},
      loopvisor::source_location where = loopvisor::source_location::current()) {
    check_open();
    Task<T> task = loop_->create_task(std::move(coro), std::move(name), where);
    adopt(task.state());
    return task;
  }

  /// Waits for every child (see the class notes for errors and cancellation).
  [[nodiscard]] boost::asio::awaitable<void> wait();

  std::size_t size() const noexcept { return state_->children.size(); }

 private:
  void check_open() const;
  void adopt(const std::shared_ptr<detail::TaskBase>& child);

  Loop* loop_;
  std::shared_ptr<detail::GroupState> state_;
};

}  // namespace loopvisor
