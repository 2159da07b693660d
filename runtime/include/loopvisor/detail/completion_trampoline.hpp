// CompletionTrampoline: completions an operation delivers at once, run one after another.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "loopvisor/detail/callback.hpp"
#include "loopvisor/detail/task_executor.hpp"

namespace loopvisor::detail {

/// Runs the completions of awaits that have their result when they begin (an await of a task
/// or future that has ended), on the awaiting coroutine's own turn, as asyncio's `await` of a
/// done future returns without yielding.
///
/// Such a completion resumes its coroutine, which runs until it suspends again and may begin
/// another such await at once. Called one inside the other, every await in a row would take
/// the thread's stack deeper; here a completion that arrives while another runs waits until
/// that one has returned, and the first call runs them all in order. The stack stays two
/// completions deep, and no other work of the loop runs in between.
///
/// On the loop's thread only, from an initiation that runs after its coroutine suspended
/// (Asio's awaitable machinery starts operations that way). `task_id` is the task the
/// completion continues (current_task_id() when it began): a completion that has to wait
/// runs as that task. If a completion throws, the ones still waiting are posted to the loop
/// (outside its bounded inbox) rather than lost, and the error goes on to the caller.
class CompletionTrampoline {
 public:
  static void run(std::uint64_t task_id, Callback completion);

  /// The task id (0: none) of the coroutine `handler` resumes, if it may be completed now: an
  /// Asio coroutine's handler (`co_await op`, `co_await op(use_awaitable)`; Asio starts such
  /// an operation after the coroutine suspended) whose turn this is. That is, its executor is
  /// a task's and that task's step is running on this thread, or it is a plain io_context's
  /// whose thread this is, outside any task. Empty for any other handler: it must be
  /// completed on its executor's next turn, as Asio operations are.
  template <class Handler>
  static std::optional<std::uint64_t> coroutine_of_this_turn(const Handler& handler);

 private:
  template <class Handler>
  struct resumes_coroutine : std::false_type {};
  template <class Signature, class Executor>
  struct resumes_coroutine<boost::asio::detail::awaitable_async_op_handler<Signature, Executor>>
      : std::true_type {};
  template <class Executor, class... Args>
  struct resumes_coroutine<boost::asio::detail::awaitable_handler<Executor, Args...>> : std::true_type {};
};

template <class Handler>
std::optional<std::uint64_t> CompletionTrampoline::coroutine_of_this_turn(const Handler& handler) {
  if constexpr (resumes_coroutine<Handler>::value) {
    const auto executor = boost::asio::get_associated_executor(handler);
    if constexpr (std::is_same_v<std::decay_t<decltype(executor)>, boost::asio::any_io_executor>) {
      using Plain = boost::asio::io_context::executor_type;
      const std::uint64_t running = current_task_id();
      if (const auto* task = executor.template target<TaskExecutor<Plain>>()) {
        if (running != 0 && task->task_id() == running && task->inner().running_in_this_thread())
          return running;
      } else if (const auto* plain = executor.template target<Plain>()) {
        if (running == 0 && plain->running_in_this_thread()) return running;
      }
    }
  }
  return std::nullopt;
}

}  // namespace loopvisor::detail
