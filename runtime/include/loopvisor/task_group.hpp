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
  std::vector<std::shared_ptr<TaskBase>> children;  // those still running
  std::vector<std::exception_ptr> errors;           // in the order children failed
  std::weak_ptr<TaskBase> parent;                   // the task that created the group
  std::size_t created = 0;                          // children ever created
  bool aborting = false;                            // a child failed or the parent was cancelled
  bool exiting = false;                             // wait() has started
  bool closed = false;                              // wait() returned: no more children
  bool parent_cancel_requested = false;             // the group cancelled its parent's own code
  Event changed;                                    // a child ended
  void on_child_end(TaskBase& child);
  void abort();
};
}  // namespace detail

/// asyncio.TaskGroup without `async with`: create children, then `co_await group.wait()`.
///
///     loopvisor::TaskGroup group;
///     auto a = group.create_task(fetch("a"));
///     auto b = group.create_task(fetch("b"));
///     co_await group.wait();            // both done, or ExceptionGroup with every error
///
/// or, the equivalent of `async with` (recommended: `wait()` is reached on every path):
///
///     co_await group.run(body());       // body is the parent's own code inside the block
///
/// asyncio 3.13's rules:
/// - The first child to fail (an exception other than cancellation) cancels every sibling and,
///   if the parent has not reached `wait()` yet, the parent's own code too (its current await
///   raises CancelledError). `wait()` waits for all children, then raises ExceptionGroup with
///   every child's error in the order they failed; the group withdraws (uncancel) the cancel
///   it sent its parent, so the parent does not end cancelled because of it.
/// - Cancelling the parent while it is in `wait()` cancels every child and waits for them to
///   unwind before CancelledError propagates. If children failed, ExceptionGroup wins, but a
///   cancel from outside is not swallowed: the parent's request stays pending (cancelling()
///   stays above zero) and is delivered at its next await, or ends it cancelled if it returns.
/// - After `wait()` returns or raises, `create_task` is InvalidStateError. `size()` counts the
///   children still running.
/// - Destroying the group without `wait()` cancels the children still running (it cannot
///   wait for them); that is a bug in the caller and is reported to the loop's handler, with
///   any child errors it collected.
///
/// Thread safety: on one loop only.
class TaskGroup {
 public:
  TaskGroup();
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  /// The group owns its children: discarding the returned handle is the normal use.
  template <class T>
  Task<T> create_task(boost::asio::awaitable<T> coro, std::string name = {},
                      loopvisor::source_location where = loopvisor::source_location::current()) {
    check_open();
    Task<T> task = loop_->create_task(std::move(coro), std::move(name), where);
    adopt(detail::state_of(task));
    return task;
  }

  /// Waits for every child (see the class notes for errors and cancellation).
  [[nodiscard]] boost::asio::awaitable<void> wait();

  /// `async with`: runs `body` (the parent's own code in the block), then waits as `wait()`
  /// does. An exception from `body` aborts the group (its children are cancelled) and is
  /// raised after they have ended; a CancelledError the group itself caused is absorbed.
  [[nodiscard]] boost::asio::awaitable<void> run(boost::asio::awaitable<void> body);

  /// Children still running.
  std::size_t size() const noexcept { return state_->children.size(); }

 private:
  void check_open() const;
  void adopt(const std::shared_ptr<detail::TaskBase>& child);

  Loop* loop_;
  std::shared_ptr<detail::GroupState> state_;
};

}  // namespace loopvisor
