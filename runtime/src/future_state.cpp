// The shared state behind ThreadFuture.
#include "loopvisor/detail/future_state.hpp"

#include <algorithm>

#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/exception_context.hpp"

namespace loopvisor::detail {

FutureStateBase::~FutureStateBase() {
  // sync: relaxed; the last owner is destroying the state, nobody else uses it.
  if (status() != Status::done || !error_ || retrieved_.load(std::memory_order_relaxed)) return;
  try {
    ExceptionContext context;
    context.message = "ThreadFuture exception was never retrieved (the future was dropped unread)";
    context.exception = error_;
    if (producer_) {
      producer_->report(std::move(context));
    } else {
      log_exception(context);
    }
  } catch (...) {
    // Out of memory while reporting: nothing better to do in a destructor.
  }
}

bool FutureStateBase::cancel() {
  Callback hook;
  const bool won = complete(Status::cancelled, [&] { hook = std::move(cancel_hook_); });
  if (won && hook) hook();
  return won;
}

void FutureStateBase::listen(Callback fn) {
  {
    lock_guard g(mu_);
    if (status() == Status::pending) {
      listeners_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

bool FutureStateBase::spin_until_settled(std::chrono::steady_clock::time_point deadline) const noexcept {
  const auto budget = producer_ ? producer_->spin_budget() : std::chrono::nanoseconds(0);
  if (budget <= std::chrono::nanoseconds(0)) return false;
  const auto until = std::min(deadline, std::chrono::steady_clock::now() + budget);
  for (unsigned i = 1;; ++i) {
    if (status() != Status::pending) return true;
    if (i % 64 == 0 && std::chrono::steady_clock::now() >= until) return false;  // a clock read per 64
    cpu_relax();
  }
}

bool FutureStateBase::wait_until(std::chrono::steady_clock::time_point deadline) const {
  if (status() != Status::pending || spin_until_settled(deadline)) return true;
  unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return status() != Status::pending; });
}

void FutureStateBase::wait() const {
  if (status() != Status::pending || spin_until_settled(std::chrono::steady_clock::time_point::max())) return;
  // sync: acquire; returns once the word has left pending (complete() notifies after its store).
  word_.wait(static_cast<int>(Status::pending), std::memory_order_acquire);
}

bool FutureStateBase::set_exception(std::exception_ptr e) {
  return complete(Status::done, [&] { error_ = std::move(e); });
}

void FutureStateBase::keep_for_reader(std::shared_ptr<const FutureStateBase> state) noexcept {
  thread_local std::shared_ptr<const FutureStateBase> kept;
  kept.swap(state);  // the one kept before goes when `state` does, at the end of this call
}

void FutureStateBase::rethrow_if_failed() const {
  mark_retrieved();
  if (status() == Status::cancelled) throw CancelledError("the future was cancelled");
  if (error_) std::rethrow_exception(error_);
}

std::exception_ptr FutureStateBase::exception_or_null() const {
  mark_retrieved();
  if (status() == Status::cancelled) {
    return std::make_exception_ptr(CancelledError("the future was cancelled"));
  }
  return error_;
}

}  // namespace loopvisor::detail

#include "log.hpp"

namespace loopvisor::detail {

void report_callback_failure(const char* where, const char* what) noexcept {
  try {
    detail::log(LogLevel::error, "{} raised an exception: {}", where, what);
  } catch (...) {
  }
}

}  // namespace loopvisor::detail
