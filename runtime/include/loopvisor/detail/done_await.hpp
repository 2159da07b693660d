// DoneAwait: an await of a task that had already ended when it began.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <exception>
#include <memory>
#include <type_traits>
#include <utility>

#include "loopvisor/detail/await_op.hpp"
#include "loopvisor/detail/callback.hpp"
#include "loopvisor/detail/completion_trampoline.hpp"
#include "loopvisor/detail/result_signature.hpp"
#include "loopvisor/detail/slot_watch.hpp"
#include "loopvisor/detail/task_executor.hpp"
#include "loopvisor/detail/task_state.hpp"

namespace loopvisor::detail {

/// The awaiter's CancelledError: the cancelled_error() of the task running now (the awaiter,
/// when this runs through its executor), else a plain one.
inline std::exception_ptr awaiter_cancelled_error() {
  auto awaiter = current_task_state();
  return awaiter ? awaiter->cancelled_error() : await_cancelled();
}

/// Completes an await of an ended task. A coroutine awaiting on this thread's loop, as the
/// task (or plain coroutine) running now, gets the result at once, without yielding to the
/// loop, as asyncio's `await` of a done task does: nothing else runs between the await and
/// the coroutine's next line (CompletionTrampoline).
///
/// Any other handler (another executor, a callback token) is completed on its executor's
/// next turn, as an Asio operation never completes inside the call that starts it: one post,
/// with no listener on the task and no shared operation. A cancel of the awaiter in between
/// still ends the await with CancelledError, as it does for a task that ends while awaited
/// (AwaitOp). The cancel is seen by a flag in the awaiter's cancellation slot, which this
/// watches until it runs or is destroyed (its loop shut down with it queued). It names no
/// executor of its own: it is posted to the awaiter's, and one that named it would be
/// dispatched there once more.
template <class T, class Handler, class State>
class DoneAwait {
 public:
  DoneAwait(Handler handler, std::shared_ptr<State> state)
      : watch_(std::move(handler)), state_(std::move(state)) {}

  using allocator_type = boost::asio::associated_allocator_t<Handler>;
  allocator_type get_allocator() const noexcept {
    return boost::asio::get_associated_allocator(watch_.handler());
  }

  /// Completes the await now (a coroutine of this turn) or queues it on the awaiter's executor.
  static void start(Handler handler, std::shared_ptr<State> state) {
    if (const auto task_id = CompletionTrampoline::coroutine_of_this_turn(handler)) {
      CompletionTrampoline::run(*task_id, Callback([handler = std::move(handler),
                                                    state = std::move(state)]() mutable {
        complete_with_result<T>(handler, state->retrieve_exception(), [&] { return state->read_value(); });
      }));
      return;
    }
    DoneAwait self(std::move(handler), std::move(state));
    self.seen_ = self.watch_.template watch<CancelSeen>();
    const auto executor = boost::asio::get_associated_executor(self.watch_.handler());
    if constexpr (std::is_same_v<std::decay_t<decltype(executor)>, boost::asio::any_io_executor>) {
      // A task's own executor behind the type erasure (an awaiting task's): posted through it
      // directly, which spares the erased require, prefer and execute (about a third of this).
      if (const auto* task =
              executor.template target<TaskExecutor<boost::asio::io_context::executor_type>>()) {
        boost::asio::post(*task, std::move(self));
        return;
      }
    }
    boost::asio::post(executor, std::move(self));
  }

  void operator()() {
    const bool cancelled = seen_ != nullptr && seen_->seen;
    watch_.release_slot();
    const auto state = std::move(state_);
    complete_with_result<T>(watch_.handler(),
                            cancelled ? awaiter_cancelled_error() : state->retrieve_exception(),
                            [&] { return state->read_value(); });
  }

 private:
  struct CancelSeen {
    void operator()(boost::asio::cancellation_type) noexcept { seen = true; }
    bool seen = false;
  };

  SlotWatch<Handler> watch_;
  std::shared_ptr<State> state_;
  CancelSeen* seen_ = nullptr;  // in the awaiter's slot while watch_ watches it
};

}  // namespace loopvisor::detail
