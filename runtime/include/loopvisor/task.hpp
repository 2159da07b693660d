// Task<T>: a coroutine scheduled on a loop, with asyncio's states, cancellation and callbacks.
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include "loopvisor/source_location.hpp"

#include "loopvisor/detail/result_signature.hpp"
#include "loopvisor/detail/task_state.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/task_status.hpp"

namespace loopvisor {

template <class T>
class Task;

namespace detail {
/// The task's shared state, for the runtime's combinators (not part of the public API).
template <class T>
const std::shared_ptr<TaskState<T>>& state_of(const Task<T>& task) noexcept;
}  // namespace detail

/// A handle to a task (asyncio.Task): a coroutine running on one loop, created by
/// `Loop::create_task` (or `create_task` on the current loop). Copies share the task.
///
/// - `cancel(msg)` requests cancellation (asyncio's rules): false once the task is done or
///   cancelled, else true. The task sees CancelledError (carrying `msg`), or operation_aborted
///   from the Asio operation it awaits, at its next await; if that escapes, the task ends
///   cancelled. A task that catches a delivered cancellation and returns normally ends done;
///   one that returns before the request was delivered (it cancelled itself, or the request
///   came from another thread and had not reached it yet) ends cancelled, as in asyncio 3.13.
///   A task cancelled before its first step never runs its body. `cancelling()` and
///   `uncancel()` count requests as asyncio 3.11+ does; `uncancel()` down to zero also forgets
///   a request not yet delivered.
/// - `result()` returns the value; throws InvalidStateError while not ended, CancelledError if
///   cancelled, or the task's own exception.
/// - `co_await task` (a Task is an Asio asynchronous operation) waits for the end without
///   blocking the loop; `co_await task.async_wait()` is the same as an awaitable<T>. Cancelling the awaiting
///   coroutine cancels the task, as awaiting a task in asyncio does.
/// - an exception nobody retrieved (by result(), exception() or co_await) is reported to the
///   loop's exception handler when the last handle goes ("Task exception was never
///   retrieved"); a task whose loop is torn down while it runs is reported as "Task was
///   destroyed but it is pending".
///
/// Thread safety: distinct objects safe. Shared objects: `id`, `status`, `done`,
/// `cancelled` and `cancel` from any thread (cancel from another thread wakes the task's
/// loop); `result`/`exception` from any thread once `done()` is true; everything else,
/// including `co_await`, only on the task's loop.
template <class T = void>
class Task {
 public:
  using value_type = T;
  using State = detail::TaskState<T>;

  Task() = default;
  explicit Task(std::shared_ptr<State> state) : state_(std::move(state)) {}

  bool valid() const noexcept { return state_ != nullptr; }
  std::uint64_t id() const { return checked().id(); }
  std::string name() const { return checked().name(); }
  void set_name(std::string name) { checked().set_name(std::move(name)); }
  TaskStatus status() const { return checked().status(); }
  /// Ended, whether done or cancelled (asyncio's Task.done()).
  bool done() const { return checked().is_terminal(); }
  bool cancelled() const { return status() == TaskStatus::cancelled; }
  bool cancel(std::string message = {}) { return checked().cancel(std::move(message)); }
  /// On the loop: pending cancel requests (asyncio's Task.cancelling()).
  int cancelling() const { return checked().cancelling(); }
  /// On the loop: withdraws one cancel request and returns how many remain (Task.uncancel()).
  int uncancel() { return checked().uncancel(); }
  Loop& loop() const { return checked().loop(); }
  TaskInfo info() const { return checked().info(); }

  T result() {
    require_ended("result");
    if (auto e = state_->retrieve_exception()) std::rethrow_exception(e);
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      return state_->read_value();
    }
  }

  /// The task's exception, or null if it returned a value. Throws InvalidStateError while it
  /// has not ended and CancelledError if it was cancelled.
  std::exception_ptr exception() {
    require_ended("exception");
    if (state_->status() == TaskStatus::cancelled) std::rethrow_exception(state_->retrieve_exception());
    return state_->retrieve_exception();
  }

  /// On the loop: `fn(task)` is scheduled with call_soon when the task ends, in registration
  /// order; added after the end, it is still scheduled (never run inline). Returns an id for
  /// remove_done_callback (std::function has no equality to remove by, as asyncio does).
  std::uint64_t add_done_callback(std::function<void(Task<T>)> fn) {
    return checked().add_done_callback([state = state_, fn = std::move(fn)]() { fn(Task<T>(state)); });
  }
  /// On the loop: removes a callback that has not been scheduled yet; true if it was removed.
  bool remove_done_callback(std::uint64_t id) { return checked().remove_done_callback(id); }

  /// `co_await task.async_wait()`: what `co_await task` does, as an awaitable<T> (to store, or
  /// to pass where an awaitable is wanted): waits for the task to end without blocking the loop
  /// and yields its result (or throws its exception, CancelledError if cancelled).
  [[nodiscard]] boost::asio::awaitable<T> async_wait() const {
    return Task(state_)(boost::asio::use_awaitable);
  }

  /// Asio asynchronous operation on any completion token. Completion signature void(std::exception_ptr, T),
  /// void(std::exception_ptr) for void.
  using completion_signature = typename detail::result_signature<T>::type;
  /// A handle is cheap to copy: `co_await task` keeps a copy for the await (asio_await_fix.hpp).
  using awaited_by_copy = void;

  template <boost::asio::completion_token_for<completion_signature> Token>
  auto operator()(Token&& token) const {
    using Sig = completion_signature;
    return boost::asio::async_initiate<Token, Sig>(
        [](auto handler, std::shared_ptr<State> st) { await_state(std::move(st), std::move(handler)); },
        token, state_);
  }

  /// The runtime's own access to the shared state (detail::state_of).
  friend const std::shared_ptr<State>& detail::state_of<T>(const Task<T>& task) noexcept;

  friend bool operator==(const Task& a, const Task& b) noexcept { return a.state_ == b.state_; }

 private:
  State& checked() const {
    if (!state_) throw InvalidStateError("Task has no state (default-constructed or moved from)");
    return *state_;
  }

  void require_ended(const char* what) const {
    if (!checked().is_terminal()) {
      throw InvalidStateError(std::string("Task::") + what + "() called on task '" + state_->name() + "' (#" +
                              std::to_string(state_->id()) + ") which is still " +
                              to_string(state_->status()) + "; co_await it or wait for done()");
    }
  }

  template <class Handler>
  static void await_state(std::shared_ptr<State> st, Handler handler);

  std::shared_ptr<State> state_;
};

/// A task of any value type: identity, status and cancellation (what current_task() returns).
/// Thread safety: as Task.
class CancellationToken;

class AnyTask {
 public:
  AnyTask() = default;
  explicit AnyTask(std::shared_ptr<detail::TaskBase> state) : state_(std::move(state)) {}
  template <class T>
  AnyTask(const Task<T>& task) : state_(detail::state_of(task)) {}  // NOLINT(google-explicit-constructor)

  bool valid() const noexcept { return state_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }
  std::uint64_t id() const { return checked().id(); }
  std::string name() const { return checked().name(); }
  TaskStatus status() const { return checked().status(); }
  bool done() const { return checked().is_terminal(); }
  bool cancel(std::string message = {}) { return checked().cancel(std::move(message)); }
  int cancelling() const { return checked().cancelling(); }
  int uncancel() { return checked().uncancel(); }
  TaskInfo info() const { return checked().info(); }

 private:
  friend class CancellationToken;  // holds tasks weakly
  detail::TaskBase& checked() const {
    if (!state_) throw InvalidStateError("AnyTask has no task");
    return *state_;
  }
  std::shared_ptr<detail::TaskBase> state_;
};

namespace detail {
template <class T>
const std::shared_ptr<TaskState<T>>& state_of(const Task<T>& task) noexcept {
  return task.state_;
}
}  // namespace detail

/// On a loop: a task for `coro` on the current loop (asyncio.create_task).
template <class T>
[[nodiscard]] Task<T> create_task(boost::asio::awaitable<T> coro, std::string name = {},
                                  loopvisor::source_location where = loopvisor::source_location::current());

/// The task whose code runs on this thread now (asyncio.current_task), or an invalid AnyTask
/// on a loop outside any task. Correct across every await. Off any loop it throws
/// WrongThreadError (asyncio raises RuntimeError: no running event loop).
[[nodiscard]] AnyTask current_task();

}  // namespace loopvisor

#include "loopvisor/impl/task.ipp"
