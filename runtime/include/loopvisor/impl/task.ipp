// Template bodies of Task<T>: awaiting a task, and the coroutine wrapper every task runs in.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <stdexcept>

namespace loopvisor {

template <class T>
template <class Handler>
void Task<T>::await_state(std::shared_ptr<State> st, Handler handler) {
  struct Op {
    Handler handler;
    std::shared_ptr<State> state;
    boost::asio::cancellation_slot slot;
  };
  auto slot = boost::asio::get_associated_cancellation_slot(handler);
  auto op = std::make_shared<Op>(Op{std::move(handler), st, slot});
  auto deliver = [op]() mutable {
    if (op->slot.is_connected()) op->slot.clear();
    detail::complete_with_result<T>(op->handler, op->state->retrieve_exception(),
                                    [&] { return op->state->read_value(); });
  };
  if (!st->shared()->is_current()) {
    // Awaiting a task from another thread would race on its state: fail the await clearly.
    auto fail = [op]() mutable {
      auto e = std::make_exception_ptr(
          WrongThreadError("co_await on a Task from outside its loop; use run_coroutine_threadsafe and await "
                           "its ThreadFuture instead"));
      detail::complete_with_result<T>(op->handler, e, []() -> T { throw std::logic_error("unreachable"); });
    };
    boost::asio::post(boost::asio::get_associated_executor(op->handler), std::move(fail));
    return;
  }
  if (slot.is_connected()) {
    // asyncio: cancelling the awaiter cancels the awaited task; the awaiter then completes
    // when the task has unwound.
    slot.assign([weak = std::weak_ptr<State>(st)](boost::asio::cancellation_type) {
      if (auto s = weak.lock()) s->cancel();
    });
  }
  st->add_hook([op, deliver = std::move(deliver)]() mutable {
    op->state->shared()->post_control(std::move(deliver));
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
