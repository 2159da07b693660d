// FutureCoreBase: the loop-bound Future's state transitions, callbacks and diagnostics.
#include "loopvisor/detail/future_core.hpp"

#include <fmt/format.h>

#include "loopvisor/exception_context.hpp"
#include "loopvisor/loop.hpp"

namespace loopvisor::detail {

namespace {
std::shared_ptr<LoopShared> current_loop_shared() {
  Loop* loop = Loop::current_or_null();
  if (loop == nullptr) throw WrongThreadError("Future must be created on a loop thread (no loop runs here)");
  return detail::loop_shared(*loop);
}
}  // namespace

FutureCoreBase::FutureCoreBase() : loop_(current_loop_shared()) {}

FutureCoreBase::~FutureCoreBase() {
  if (state_ == State::done && error_ && !retrieved_) {
    try {
      ExceptionContext context;
      context.message = "Future exception was never retrieved";
      context.exception = error_;
      loop_->report(std::move(context));
    } catch (...) {
      // Out of memory while reporting: nothing better to do in a destructor.
    }
  }
}

void FutureCoreBase::require_loop() const {
  if (!loop_->is_current()) {
    throw WrongThreadError(fmt::format(
        "Future of loop '{}' used from another thread; use ThreadFuture across threads", loop_->name()));
  }
}

void FutureCoreBase::require_done(const char* what) const {
  if (state_ == State::pending) {
    throw InvalidStateError(fmt::format("Future::{}() called while the future is still pending", what));
  }
}

void FutureCoreBase::require_pending(const char* what) const {
  if (state_ != State::pending) {
    throw InvalidStateError(fmt::format("Future::{}() on a future that is already {}", what,
                                        state_ == State::cancelled ? "cancelled" : "done"));
  }
}

void FutureCoreBase::set_error(std::exception_ptr error) {
  require_pending("set_exception");
  error_ = std::move(error);
  finish(State::done);
}

void FutureCoreBase::mark_done() { finish(State::done); }

bool FutureCoreBase::cancel(std::string message) {
  if (state_ != State::pending) {
    retrieved_ = true;  // asyncio: cancel() of a failed future counts as having seen its error
    return false;
  }
  cancel_message_ = std::move(message);
  finish(State::cancelled);
  return true;
}

std::exception_ptr FutureCoreBase::retrieve() {
  retrieved_ = true;
  if (state_ == State::cancelled) {
    return std::make_exception_ptr(
        CancelledError(cancel_message_.empty() ? std::string("the future was cancelled") : cancel_message_));
  }
  return error_;
}

std::uint64_t FutureCoreBase::add_callback(Callback fn) {
  if (state_ == State::pending) return callbacks_.add(std::move(fn));
  Loop::current().call_soon(std::move(fn));
  return callbacks_.skip_id();
}

bool FutureCoreBase::remove_callback(std::uint64_t id) noexcept { return callbacks_.remove(id); }

void FutureCoreBase::add_awaiter(Callback fn) {
  if (state_ == State::pending) return callbacks_.add_awaiter(std::move(fn));
  Loop::current().call_soon(std::move(fn));
}

void FutureCoreBase::finish(State to) {
  state_ = to;
  for (auto& entry : callbacks_.take()) Loop::current().call_soon(std::move(entry.fn));
}

}  // namespace loopvisor::detail
