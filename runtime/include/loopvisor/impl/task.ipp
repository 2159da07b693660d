// Template bodies of Task<T>: awaiting a task, and the coroutine wrapper every task runs in.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <stdexcept>
#include <string>
#include <utility>

#include "loopvisor/detail/task_executor.hpp"

namespace loopvisor {

template <class T>
template <class Handler>
void Task<T>::await_state(std::shared_ptr<State> st, Handler handler) {
  struct Op {
    Handler handler;
    std::shared_ptr<State> state;
    boost::asio::cancellation_slot slot;
    std::weak_ptr<detail::TaskBase> awaiter;  // the task suspended here (null: plain coroutine)
    std::uint64_t awaiter_id = 0;
    bool cancelled = false;  // the awaiter was cancelled and the awaited task could not be
    bool delivered = false;  // the handler was invoked (once only)
  };
  auto slot = boost::asio::get_associated_cancellation_slot(handler);
  auto awaiter = detail::current_task_state();
  const std::uint64_t awaiter_id = detail::current_task_id();
  auto op = std::make_shared<Op>(Op{std::move(handler), st, slot, awaiter, awaiter_id, false});
  auto fail = [](const std::shared_ptr<Op>& o, std::exception_ptr e) {
    // Posted, never inline: the awaiting coroutine may not have suspended yet.
    boost::asio::post(boost::asio::get_associated_executor(o->handler), [o, e]() mutable {
      if (std::exchange(o->delivered, true)) return;
      if (o->slot.is_connected()) o->slot.clear();
      detail::complete_with_result<T>(o->handler, e, []() -> T { throw std::logic_error("unreachable"); });
    });
  };
  if (!st->shared()->is_current()) {
    // Awaiting a task from another thread would race on its state: fail the await clearly.
    fail(op, std::make_exception_ptr(WrongThreadError(
                 "co_await on a Task from outside its loop; use run_coroutine_threadsafe and await "
                 "its ThreadFuture instead")));
    return;
  }
  if (awaiter == st) {
    // asyncio raises RuntimeError here; waiting would never end and a cancel would loop.
    fail(op, std::make_exception_ptr(InvalidStateError(
                 "Task '" + st->name() + "' (#" + std::to_string(st->id()) + ") cannot await on itself")));
    return;
  }
  if (slot.is_connected()) {
    // asyncio: cancelling the awaiter cancels the awaited task (with the awaiter's message);
    // the awaiter then completes when the task has unwound. If the task had already ended,
    // the awaiter gets CancelledError instead of a result it has not seen yet.
    slot.assign([weak = std::weak_ptr<Op>(op), fail](boost::asio::cancellation_type) {
      auto o = weak.lock();
      if (!o || o->delivered) return;
      std::string message;
      auto a = o->awaiter.lock();
      if (a) message = a->cancel_message();
      if (o->state->cancel(std::move(message))) return;
      o->cancelled = true;
      if (!o->state->is_terminal()) {
        // A cycle of awaits: the awaited task is the one being cancelled. Fail this await now.
        fail(o,
             a ? a->cancelled_error() : std::make_exception_ptr(CancelledError("the await was cancelled")));
      }
    });
  }
  st->add_awaiter([op]() mutable {
    if (std::exchange(op->delivered, true)) return;
    detail::TaskScope scope(op->awaiter_id);  // the awaiter runs as itself (current_task)
    if (op->slot.is_connected()) op->slot.clear();
    std::exception_ptr error;
    if (op->cancelled) {
      auto a = op->awaiter.lock();
      error = a ? a->cancelled_error() : std::make_exception_ptr(CancelledError("the await was cancelled"));
    } else {
      error = op->state->retrieve_exception();
    }
    detail::complete_with_result<T>(op->handler, error, [&] { return op->state->read_value(); });
  });
}

namespace detail {

/// The coroutine every task runs: starts the body unless cancelled first, records how it
/// ended. `guard` lives in the coroutine frame: destroying the frame early abandons the task.
template <class T>
boost::asio::awaitable<void> task_main([[maybe_unused]] TaskGuard guard, std::shared_ptr<TaskState<T>> st,
                                       boost::asio::awaitable<T> body) {
  if (!st->begin()) {
    st->finish_cancelled();
    co_return;
  }
  std::exception_ptr error;
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(body);
      st->set_value();
    } else {
      st->set_value(co_await std::move(body));
    }
  } catch (...) {
    error = std::current_exception();
  }
  if (error) {
    st->finish_error(std::move(error));
  } else {
    st->finish_ok();
  }
}

}  // namespace detail
}  // namespace loopvisor
