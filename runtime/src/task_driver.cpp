// The task driver's launch: an operation embedded in the task's state, then the task's frame
// runs as an Asio coroutine stack.
#include "loopvisor/detail/task_driver.hpp"

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/detail/scheduler.hpp>

#include "loopvisor/loop.hpp"

namespace loopvisor::detail {

void launch_task(TaskBase& task, TaskEntry entry, boost::asio::detail::scheduler& scheduler) {
  task.launch_entry_ = std::move(entry);
  scheduler.post_immediate_completion(&task, false);
}

void TaskBase::launch_step(void* owner, boost::asio::detail::scheduler_operation* op,
                           const boost::system::error_code&, std::size_t) {
  auto& task = static_cast<TaskBase&>(static_cast<TaskLaunch&>(*op));
  // The frame owns the task's state (TaskGuard): past this line `task` lives as long as
  // `entry` holds the frame, and no longer once the stack has taken it.
  TaskEntry entry = std::move(task.launch_entry_);
  if (owner == nullptr) return;  // destroyed unrun: `entry` goes, and with it the task
  TaskScope scope(task.id());
  try {
    // The task's signal is the stack's parent slot: cancel() reaches whatever the task awaits,
    // and this_coro::reset_cancellation_state() starts again from it.
    auto slot = task.signal().slot();
    // May throw (out of memory): before the stack takes the frame, so `task` is still alive.
    boost::asio::cancellation_state state(slot);
    boost::asio::detail::awaitable_thread<boost::asio::any_io_executor> stack(
        std::move(entry),
        boost::asio::any_io_executor(
            TaskExecutor<boost::asio::io_context::executor_type>(task.loop().get_executor(), task.id())),
        slot, state);
    // Runs the first step; the stack moves into the handler of the first operation it awaits.
    stack.launch();
  } catch (...) {
    // The frame catches what the body throws: this is the driver itself failing, before the
    // stack took the frame (`entry` still holds it; its destruction abandons the task).
    task.report("task driver raised an exception", std::current_exception());
  }
}

}  // namespace loopvisor::detail
