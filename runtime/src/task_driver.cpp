// The task driver's launch: one post, then the task's frame runs as an Asio coroutine stack.
#include "loopvisor/detail/task_driver.hpp"

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/post.hpp>

namespace loopvisor::detail {

void launch_task(std::shared_ptr<TaskBase> task, TaskEntry entry,
                 const TaskExecutor<boost::asio::io_context::executor_type>& executor) {
  boost::asio::post(executor, [task = std::move(task), entry = std::move(entry), executor]() mutable {
    try {
      // The task's signal is the stack's parent slot: cancel() reaches whatever the task awaits,
      // and this_coro::reset_cancellation_state() starts again from it.
      auto slot = task->signal().slot();
      boost::asio::detail::awaitable_thread<boost::asio::any_io_executor> stack(
          std::move(entry), boost::asio::any_io_executor(executor), slot,
          boost::asio::cancellation_state(slot));
      // Runs the first step; the stack moves into the handler of the first operation it awaits.
      stack.launch();
    } catch (...) {
      // The frame catches what the body throws; this is the driver itself failing (out of memory
      // setting up the cancellation state). The frame is gone by now: the task was abandoned.
      task->report("task driver raised an exception", std::current_exception());
    }
  });
}

}  // namespace loopvisor::detail
