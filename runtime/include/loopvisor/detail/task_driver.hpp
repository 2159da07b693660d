// The task driver: the coroutine at the bottom of every task's Asio coroutine stack, and its launch.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include "loopvisor/detail/task_executor.hpp"
#include "loopvisor/detail/task_state.hpp"

namespace loopvisor::detail {

/// The bottom frame of a task's coroutine stack. Asio's own `co_spawn` puts a frame of its own
/// there (`co_spawn_entry_point`), which dispatches its first step, posts once more after a
/// body that never suspended, and completes a handler; a task needs none of that. Its driver is
/// this one frame: it starts the body unless the task was cancelled first, records how it ended,
/// and is launched by an operation embedded in the task's state (launch_task, TaskLaunch). It
/// relies on Boost.Asio 1.81's `awaitable_thread` (the version is pinned in CMakeLists.txt);
/// nothing else uses it.

/// `st` lives in the frame: destroying the frame before the task ended abandons the task.
template <class T>
TaskEntry task_entry(TaskGuard<T> st, boost::asio::awaitable<T> body) {
  if (!st->begin()) {
    st->finish_cancelled();
    co_return;
  }
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(body);
      st->set_value();
    } else {
      st->set_value(co_await std::move(body));
    }
  } catch (...) {
    st->finish_error(std::current_exception());
    co_return;
  }
  st->finish_ok();
}

/// Queues the first step of `task` (its `entry` frame) on `scheduler`, its loop's io_context's,
/// as the operation the task's state embeds (TaskLaunch); once per task. The step runs as the
/// task (on a TaskExecutor with its id): the frame becomes the bottom of an Asio coroutine
/// stack whose cancellation slot is the task's signal. Until that step runs the operation owns
/// the frame; if the loop is torn down first, destroying the frame abandons the task.
void launch_task(TaskBase& task, TaskEntry entry, boost::asio::detail::scheduler& scheduler);

}  // namespace loopvisor::detail
