// Timeout scopes: waiting for a child task against a deadline that may move.
#include "loopvisor/timeout.hpp"

#include <boost/asio/this_coro.hpp>

#include "loopvisor/detail/uncancellable.hpp"

#include "loopvisor/wait.hpp"

namespace loopvisor::detail {

namespace {
bool child_done(const CompletionWatch& w) { return w.all_done(); }
}  // namespace

boost::asio::awaitable<void> run_until_deadline(std::shared_ptr<DeadlineState> state,
                                                std::shared_ptr<TaskBase> task) {
  auto watch = CompletionWatch::watch({task});
  state->watch = watch;
  std::exception_ptr outer_cancelled;
  try {
    for (;;) {
      if (watch->all_done()) break;
      const auto now = std::chrono::steady_clock::now();
      if (state->when && now >= *state->when) {
        state->expired = true;
        break;
      }
      std::optional<std::chrono::steady_clock::duration> left;
      if (state->when) left = *state->when - now;
      co_await await_condition(watch, child_done, left);  // returns on end, expiry or reschedule
    }
  } catch (...) {
    outer_cancelled = std::current_exception();
  }
  if (!watch->all_done()) {
    // Cancelling the outer await, or the deadline, cancels the body; either way we return only
    // once it has unwound (its RAII and catch blocks ran), deaf to further cancels meanwhile.
    if (outer_cancelled) {
      task->cancel(current_cancel_message());
    } else {
      task->cancel();
    }
    co_await boost::asio::this_coro::reset_cancellation_state(deaf_to_cancellation);
    co_await await_condition(watch, child_done, std::nullopt);
    co_await boost::asio::this_coro::reset_cancellation_state();
  }
  state->watch.reset();
  state->phase = DeadlineState::Phase::exited;
  if (outer_cancelled) std::rethrow_exception(outer_cancelled);
}

void enter(DeadlineState& state) {
  if (state.phase != DeadlineState::Phase::created) {
    throw InvalidStateError("Timeout::run(): this timeout scope was already entered; a scope runs one body");
  }
  state.phase = DeadlineState::Phase::entered;
}

void throw_if_expired(DeadlineState& state, TaskBase& task) {
  if (task.status() == TaskStatus::cancelled && state.expired) {
    throw TimeoutError("the operation did not finish before its deadline and was cancelled",
                       task.retrieve_exception());
  }
}

}  // namespace loopvisor::detail

namespace loopvisor {

void Timeout::reschedule(std::optional<time_point> when) {
  if (state_->phase == detail::DeadlineState::Phase::created) {
    throw InvalidStateError(
        "Timeout::reschedule(): the scope has not been entered (call it from within run())");
  }
  if (state_->phase == detail::DeadlineState::Phase::exited) {
    throw InvalidStateError(
        "Timeout::reschedule(): the scope has already finished; its deadline no longer applies");
  }
  state_->when = when;
  if (state_->watch) state_->watch->interrupt();
}

}  // namespace loopvisor
