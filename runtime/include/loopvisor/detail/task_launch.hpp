// A task's first step as an operation embedded in its state: launching a task allocates nothing.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/detail/scheduler_operation.hpp>

namespace boost::asio::detail {
class scheduler;  // an io_context's implementation (boost/asio/detail/scheduler.hpp)
}  // namespace boost::asio::detail

namespace loopvisor::detail {

/// The bottom frame of a task's coroutine stack (task_entry, in task_driver.hpp).
using TaskEntry =
    boost::asio::awaitable<boost::asio::detail::awaitable_thread_entry_point, boost::asio::any_io_executor>;

/// A task's first step as an operation of its loop's scheduler, embedded in the task's state
/// (TaskBase derives from it): queuing it allocates nothing, where a posted handler was one
/// heap block per task. While queued it owns the task's frame. Run, it starts the frame as an
/// Asio coroutine stack (launch_task, task_driver.cpp); destroyed unrun, when its loop's
/// io_context is torn down, it destroys the frame, which abandons the task. It relies on
/// Boost.Asio 1.81's scheduler (its operation type and post_immediate_completion), like the
/// driver; the version is pinned in CMakeLists.txt.
class TaskLaunch : public boost::asio::detail::scheduler_operation {
 protected:
  explicit TaskLaunch(func_type step) noexcept : scheduler_operation(step) {}
  ~TaskLaunch() = default;
  TaskLaunch(const TaskLaunch&) = delete;
  TaskLaunch& operator=(const TaskLaunch&) = delete;

  /// The frame, from launch_task until the step runs or is destroyed; empty otherwise.
  TaskEntry launch_entry_;
};

}  // namespace loopvisor::detail
