// Timeout scopes: waiting for a child task against a deadline that may move.
#include "loopvisor/timeout.hpp"

#include <fmt/format.h>

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
  if (outer_cancelled) {
    state->watch.reset();
    task->cancel();  // cancelling the outer await cancels the body
    std::rethrow_exception(outer_cancelled);
  }
  if (!watch->all_done()) {
    task->cancel();
    // Let the body unwind. Nothing cancelled us, so this await runs to the body's end.
    co_await await_condition(watch, child_done, std::nullopt);
  }
  state->watch.reset();
}

void throw_timeout(const DeadlineState& state) {
  (void)state;
  throw TimeoutError("the operation did not finish before its deadline and was cancelled");
}

}  // namespace loopvisor::detail
