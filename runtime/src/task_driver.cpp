// The task driver's launch: an operation embedded in the task's state, then the task's frame
// runs as an Asio coroutine stack.
#include "loopvisor/detail/task_driver.hpp"

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/detail/scheduler.hpp>
#include <optional>

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
  // The task's signal is the stack's parent slot: cancel() reaches whatever the task awaits,
  // and this_coro::reset_cancellation_state() starts again from it.
  auto slot = task.signal().slot();
  std::optional<boost::asio::cancellation_state> state;
  try {
    state.emplace(slot);  // allocates: may throw, while `entry` still holds the frame
  } catch (...) {
    // The driver itself failed (out of memory); `task` is alive as long as `entry` is. The
    // frame goes with `entry` at the return, and its destruction abandons the task.
    task.report("task driver raised an exception", std::current_exception());
    return;
  }
  // Past here `task` may end and be freed inside launch(). Nothing below throws: the frame
  // catches what the body throws, and a failure of Asio's own would reach run_forever's
  // handler, not this task.
  boost::asio::detail::awaitable_thread<boost::asio::any_io_executor> stack(
      std::move(entry),
      boost::asio::any_io_executor(
          TaskExecutor<boost::asio::io_context::executor_type>(task.loop().get_executor(), task.id())),
      slot, *state);
  // Runs the first step; the stack moves into the handler of the first operation it awaits.
  stack.launch();
}

}  // namespace loopvisor::detail
