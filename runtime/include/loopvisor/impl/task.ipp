// Template bodies of Task<T>: awaiting a task.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <stdexcept>
#include <string>
#include <utility>

#include "loopvisor/detail/await_op.hpp"
#include "loopvisor/detail/done_await.hpp"
#include "loopvisor/detail/task_executor.hpp"

namespace loopvisor {

template <class T>
template <class Handler>
void Task<T>::await_state(std::shared_ptr<State> st, Handler handler) {
  using Op = detail::AwaitOp<T, Handler, State>;
  auto fail = [](const std::shared_ptr<Op>& o, std::exception_ptr e) {
    // Posted, never inline: the awaiting coroutine may not have suspended yet.
    boost::asio::post(boost::asio::get_associated_executor(o->handler), [o, e]() mutable {
      o->deliver(e, []() -> T { throw std::logic_error("unreachable"); });
    });
  };
  if (!st->shared()->is_current()) {
    // Awaiting a task from another thread would race on its state: fail the await clearly.
    fail(std::make_shared<Op>(std::move(handler), st),
         std::make_exception_ptr(WrongThreadError(
             "co_await on a Task from outside its loop; use run_coroutine_threadsafe and await "
             "its ThreadFuture instead")));
    return;
  }
  if (st->is_terminal()) {
    // Awaiting tasks one by one after starting them all: most have ended by their turn.
    detail::DoneAwait<T, Handler, State>::start(std::move(handler), std::move(st));
    return;
  }
  const std::weak_ptr<detail::TaskBase> awaiter = detail::current_task_state();  // null: plain coroutine
  auto op = std::make_shared<Op>(std::move(handler), st);
  auto cancelled_error = [awaiter] {
    auto a = awaiter.lock();
    return a ? a->cancelled_error() : detail::await_cancelled();
  };
  if (awaiter.lock() == st) {
    // asyncio raises RuntimeError here; waiting would never end and a cancel would loop.
    fail(op, std::make_exception_ptr(InvalidStateError(
                 "Task '" + st->name() + "' (#" + std::to_string(st->id()) + ") cannot await on itself")));
    return;
  }
  // asyncio: cancelling the awaiter cancels the awaited task (with the awaiter's message); the
  // awaiter then completes when the task has unwound. If the task had already ended, the
  // awaiter gets CancelledError instead of a result it has not seen yet.
  Op::on_cancellation(op, [awaiter, fail, cancelled_error](const std::shared_ptr<Op>& o) {
    std::string message;
    if (auto a = awaiter.lock()) message = a->cancel_message();
    if (o->state->cancel(std::move(message))) return;
    o->cancelled = true;
    // A cycle of awaits: the awaited task is the one being cancelled. Fail this await now.
    if (!o->state->is_terminal()) fail(o, cancelled_error());
  });
  st->add_awaiter([op, cancelled_error]() mutable {
    op->deliver(op->cancelled ? cancelled_error() : op->state->retrieve_exception(),
                [&] { return op->state->read_value(); });
  });
}

}  // namespace loopvisor
