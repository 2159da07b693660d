// AwaitOp: one coroutine awaiting a Task, Future or ThreadFuture, from suspension to delivery.
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <cstdint>
#include <exception>
#include <memory>
#include <utility>

#include "loopvisor/detail/result_signature.hpp"
#include "loopvisor/detail/task_executor.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor::detail {

/// The awaiting coroutine's handler and what its completion needs. Task, Future and
/// ThreadFuture differ in how a result reaches the awaiter (their own state's listeners, a
/// post to the awaiter's loop) and in what a cancel does; this is what they share: the
/// cancellation slot, the awaiter's task id, and a delivery that happens once.
///
/// Held by shared_ptr from the state's listener; the slot's handler holds it weakly.
template <class T, class Handler, class State>
struct AwaitOp {
  AwaitOp(Handler h, std::shared_ptr<State> s)
      : handler(std::move(h)),
        state(std::move(s)),
        slot(boost::asio::get_associated_cancellation_slot(handler)),
        awaiter_id(current_task_id()) {}

  Handler handler;
  std::shared_ptr<State> state;
  boost::asio::cancellation_slot slot;
  std::uint64_t awaiter_id;
  bool cancelled = false;  // the awaiter was cancelled once the result could no longer be
  bool delivered = false;  // the handler was invoked (once only)

  /// Completes the awaiter, once, running as the awaiting task (current_task): with `error`
  /// if set, else with the value `read()` returns.
  template <class Read>
  void deliver(std::exception_ptr error, Read&& read) {
    if (std::exchange(delivered, true)) return;
    TaskScope scope(awaiter_id);
    if (slot.is_connected()) slot.clear();
    complete_with_result<T>(handler, error, std::forward<Read>(read));
  }

  /// Calls `on_cancel(op)` (with the shared_ptr) when the awaiter is cancelled before the
  /// delivery; nothing when the handler has no cancellation slot.
  template <class OnCancel>
  static void on_cancellation(const std::shared_ptr<AwaitOp>& op, OnCancel on_cancel) {
    if (!op->slot.is_connected()) return;
    op->slot.assign([weak = std::weak_ptr<AwaitOp>(op), on_cancel](boost::asio::cancellation_type) mutable {
      if (auto o = weak.lock(); o && !o->delivered) on_cancel(o);
    });
  }
};

/// What an await that was cancelled completes with when the awaited work ended anyway.
inline std::exception_ptr await_cancelled() {
  return std::make_exception_ptr(CancelledError("the await was cancelled"));
}

}  // namespace loopvisor::detail
