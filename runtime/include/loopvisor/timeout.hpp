// Timeout: a deadline around an awaitable that can be moved while it runs (asyncio.timeout).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "loopvisor/detail/completion_watch.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/task.hpp"

namespace loopvisor {

namespace detail {
struct DeadlineState {
  enum class Phase { created, entered, exited };
  std::optional<std::chrono::steady_clock::time_point> when;
  bool expired = false;
  Phase phase = Phase::created;
  std::shared_ptr<CompletionWatch> watch;  // while run() is active
};
/// Waits for `task` against the deadline; on expiry (or when the awaiting coroutine is
/// cancelled) cancels it and returns or raises only once it has unwound.
boost::asio::awaitable<void> run_until_deadline(std::shared_ptr<DeadlineState> state,
                                                std::shared_ptr<TaskBase> task);
/// Throws InvalidStateError unless the scope may be entered now; marks it entered.
void enter(DeadlineState& state);
/// The scope's outcome for `task` once it ended: TimeoutError (carrying the task's
/// CancelledError) if the deadline cancelled it; otherwise nothing (read the task).
void throw_if_expired(DeadlineState& state, TaskBase& task);
}  // namespace detail

/// A deadline scope, asyncio.timeout()/timeout_at() in C++ shape:
///
///     auto scope = loopvisor::timeout(2s);
///     auto page = co_await scope.run(fetch(url));   // TimeoutError after 2 s
///
/// `run(body)` runs `body` as a child task. When the deadline passes, the child is cancelled
/// and awaited; if it ends cancelled, `run` raises TimeoutError and `expired()` turns true.
/// `reschedule(t)` moves the deadline (nullopt: none) even while `run` waits, for example
/// from inside the body. Scopes nest as in asyncio 3.11+: an inner scope's expiry is its own
/// TimeoutError; an outer expiry cancels the inner body, which the outer turns into its
/// TimeoutError. Cancelling the coroutine awaiting `run` cancels the body; either way `run`
/// returns or raises only after the body has unwound. The TimeoutError's `cause()` is the
/// CancelledError the body ended with.
///
/// A scope is entered once: `run` a second time, or `reschedule` before `run` started or after
/// it returned, is InvalidStateError (asyncio raises RuntimeError).
///
/// Thread safety: on one loop only. Copies share the same deadline.
class Timeout {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit Timeout(std::optional<time_point> when) : state_(std::make_shared<detail::DeadlineState>()) {
    state_->when = when;
  }

  std::optional<time_point> when() const noexcept { return state_->when; }
  bool expired() const noexcept { return state_->expired; }

  void reschedule(std::optional<time_point> when);

  template <class T>
  [[nodiscard]] boost::asio::awaitable<T> run(boost::asio::awaitable<T> body) {
    detail::enter(*state_);
    auto task = Loop::current().create_task(std::move(body), "timeout");
    auto state = state_;
    co_await detail::run_until_deadline(state, detail::state_of(task));
    detail::throw_if_expired(*state, *detail::state_of(task));
    co_return co_await task.async_wait();
  }

 private:
  std::shared_ptr<detail::DeadlineState> state_;
};

/// A scope whose deadline is `delay` from now.
[[nodiscard]] inline Timeout timeout(std::chrono::steady_clock::duration delay) {
  return Timeout(std::chrono::steady_clock::now() + delay);
}
/// A scope with an absolute deadline (nullopt: none, until rescheduled).
[[nodiscard]] inline Timeout timeout_at(std::optional<std::chrono::steady_clock::time_point> when) {
  return Timeout(when);
}

}  // namespace loopvisor
