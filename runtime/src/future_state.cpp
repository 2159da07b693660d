// The shared state behind ThreadFuture.
#include "loopvisor/detail/future_state.hpp"

#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/exception_context.hpp"

namespace loopvisor::detail {

FutureStateBase::~FutureStateBase() {
  if (status_ != Status::done || !error_ || retrieved_) return;
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
    if (status_ == Status::pending) {
      listeners_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

bool FutureStateBase::wait_until(std::chrono::steady_clock::time_point deadline) const {
  unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return status_ != Status::pending; });
}

void FutureStateBase::wait() const {
  unique_lock lock(mu_);
  cv_.wait(lock, [&] { return status_ != Status::pending; });
}

bool FutureStateBase::set_exception(std::exception_ptr e) {
  return complete(Status::done, [&] { error_ = std::move(e); });
}

void FutureStateBase::rethrow_if_failed() const {
  lock_guard g(mu_);
  retrieved_ = true;
  if (status_ == Status::cancelled) throw CancelledError("the future was cancelled");
  if (error_) std::rethrow_exception(error_);
}

std::exception_ptr FutureStateBase::exception_or_null() const {
  lock_guard g(mu_);
  retrieved_ = true;
  if (status_ == Status::cancelled) {
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
