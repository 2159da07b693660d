// wait and wait_for: wait for tasks with a return condition and a timeout (asyncio.wait, wait_for).
#pragma once

#include <algorithm>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "loopvisor/detail/as_task.hpp"
#include "loopvisor/detail/completion_watch.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/return_when.hpp"
#include "loopvisor/task.hpp"
#include "loopvisor/timeout.hpp"

namespace loopvisor {

/// wait's answer: the tasks that ended and those still pending, each in argument order.
template <class T>
struct WaitResult {
  std::vector<Task<T>> done;
  std::vector<Task<T>> pending;
};

namespace detail {
/// Waits until `stop(watch)` holds, `timeout` passes (nullopt: no timeout) or the watch is
/// interrupted. A cancelled wait raises CancelledError and leaves the children alone.
boost::asio::awaitable<void> await_condition(std::shared_ptr<CompletionWatch> watch,
                                             bool (*stop)(const CompletionWatch&),
                                             std::optional<std::chrono::steady_clock::duration> timeout);
bool stop_when(ReturnWhen when, const CompletionWatch& watch);

/// `tasks` without repeats, in order of first appearance.
template <class T>
std::vector<Task<T>> distinct(std::vector<Task<T>> tasks) {
  std::vector<Task<T>> out;
  out.reserve(tasks.size());
  for (auto& t : tasks) {
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(std::move(t));
  }
  return out;
}
}  // namespace detail

/// `co_await wait(tasks, when, timeout)`: returns (done, pending) once `when` holds or the
/// timeout passes. A task given twice counts once (asyncio takes a set). `first_exception`
/// returns at the first child that raised; a cancelled child is not an exception. Unlike wait_for, a timeout
/// cancels nothing: pending tasks keep running. An empty `tasks` is InvalidStateError (asyncio raises
/// ValueError). Cancelling the wait does not cancel the tasks.
///
/// Thread safety: on the tasks' loop, from a coroutine.
template <class T>
[[nodiscard]] boost::asio::awaitable<WaitResult<T>> wait(
    std::vector<Task<T>> tasks, ReturnWhen when = ReturnWhen::all_completed,
    std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt) {
  if (tasks.empty()) throw InvalidStateError("wait() needs at least one task; got an empty set");
  tasks = detail::distinct(std::move(tasks));  // asyncio takes a set: a task given twice counts once
  std::vector<std::shared_ptr<detail::TaskBase>> children;
  for (auto& t : tasks) children.push_back(detail::state_of(t));
  auto watch = detail::CompletionWatch::watch(children);
  bool (*stop)(const detail::CompletionWatch&) = nullptr;
  switch (when) {
    case ReturnWhen::first_completed:
      stop = [](const detail::CompletionWatch& w) {
        return detail::stop_when(ReturnWhen::first_completed, w);
      };
      break;
    case ReturnWhen::first_exception:
      stop = [](const detail::CompletionWatch& w) {
        return detail::stop_when(ReturnWhen::first_exception, w);
      };
      break;
    case ReturnWhen::all_completed:
      stop = [](const detail::CompletionWatch& w) { return detail::stop_when(ReturnWhen::all_completed, w); };
      break;
  }
  co_await detail::await_condition(watch, stop, timeout);
  WaitResult<T> result;
  for (auto& t : tasks) (t.done() ? result.done : result.pending).push_back(t);
  co_return result;
}

/// wait over awaitables: each becomes a task on the current loop at the call, in order, and
/// the answer holds those tasks. (asyncio 3.11+ refuses coroutines in wait() because a caller
/// could not find its coroutine among the returned tasks; here the tasks are the only handles
/// there are, and each keeps its position's order in done and pending.)
template <class T>
[[nodiscard]] boost::asio::awaitable<WaitResult<T>> wait(
    std::vector<boost::asio::awaitable<T>> coros, ReturnWhen when = ReturnWhen::all_completed,
    std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt,
    loopvisor::source_location where = loopvisor::source_location::current()) {
  return wait(detail::as_tasks(std::move(coros), where), when, timeout);
}

/// `co_await wait_for(coro, timeout)`: runs `coro` as a task; if it has not ended by
/// `timeout`, cancels it, waits for it to unwind, and raises TimeoutError. Cancelling the
/// outer await cancels the inner task. A task that swallows its cancellation and returns a
/// value in time wins over the timeout, as in asyncio.
template <class T>
[[nodiscard]] boost::asio::awaitable<T> wait_for(boost::asio::awaitable<T> coro,
                                                 std::chrono::steady_clock::duration timeout) {
  co_return co_await Timeout(std::chrono::steady_clock::now() + timeout).run(std::move(coro));
}

/// `co_await wait_for(task, timeout)` (asyncio.wait_for on a task or future): the task's result
/// if it ends in time. Otherwise it is cancelled and awaited until it has unwound, then
/// TimeoutError (its `cause()` the task's CancelledError) — unless the task swallowed the
/// cancellation and returned, whose result then wins. A zero or negative timeout returns the
/// result of a task already done and otherwise cancels it at once. Cancelling the outer await
/// cancels the task and also waits for it to unwind.
template <class T>
[[nodiscard]] boost::asio::awaitable<T> wait_for(Task<T> task, std::chrono::steady_clock::duration timeout) {
  if (!task.done()) {
    auto state = std::make_shared<detail::DeadlineState>();
    state->when = std::chrono::steady_clock::now() + timeout;
    detail::enter(*state);
    co_await detail::run_until_deadline(state, detail::state_of(task));
    detail::throw_if_expired(*state, *detail::state_of(task));
  }
  co_return co_await task.async_wait();
}

/// `co_await shield(task)`: waits for `task`, but cancelling this await does not cancel the
/// task (asyncio.shield). The awaiting coroutine gets CancelledError; the task runs on.
template <class T>
[[nodiscard]] boost::asio::awaitable<T> shield(Task<T> task) {
  auto watch = detail::CompletionWatch::watch({detail::state_of(task)});
  co_await detail::await_condition(
      watch, [](const detail::CompletionWatch& w) { return w.all_done(); }, std::nullopt);
  co_return co_await task.async_wait();
}

}  // namespace loopvisor
