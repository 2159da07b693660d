// FutureCore<T>: the state behind a loop-bound Future, and awaiting it.
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include <variant>
#include <vector>
#include "loopvisor/detail/await_op.hpp"

#include "loopvisor/detail/callback.hpp"
#include "loopvisor/detail/completion_trampoline.hpp"
#include "loopvisor/detail/done_callbacks.hpp"
#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/detail/result_signature.hpp"
#include "loopvisor/detail/task_executor.hpp"
#include "loopvisor/detail/task_state.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor::detail {

/// Status, result and callbacks of one Future. Loop thread only (require_loop() checks).
class FutureCoreBase {
 public:
  FutureCoreBase();
  ~FutureCoreBase();
  FutureCoreBase(const FutureCoreBase&) = delete;
  FutureCoreBase& operator=(const FutureCoreBase&) = delete;

  void require_loop() const;
  void require_done(const char* what) const;
  bool done() const noexcept { return state_ != State::pending; }
  bool cancelled() const noexcept { return state_ == State::cancelled; }
  void set_error(std::exception_ptr error);
  bool cancel(std::string message);
  /// The exception for a reader (CancelledError if cancelled), marking it retrieved.
  std::exception_ptr retrieve();
  std::uint64_t add_callback(Callback fn);  ///< id for remove_callback
  bool remove_callback(std::uint64_t id) noexcept;
  void add_awaiter(Callback fn);
  const std::string& cancel_message() const noexcept { return cancel_message_; }

 protected:
  void mark_done();  ///< result stored: becomes done, schedules the callbacks
  void require_pending(const char* what) const;

 private:
  enum class State { pending, done, cancelled };
  void finish(State to);

  std::shared_ptr<LoopShared> loop_;
  State state_ = State::pending;
  std::exception_ptr error_;
  bool retrieved_ = false;
  std::string cancel_message_;
  DoneCallbacks callbacks_;
};

template <class T>
class FutureCore final : public FutureCoreBase {
 public:
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

  template <class... V>
  void set_value(V&&... v) {
    require_pending("set_result");
    value_.emplace(std::forward<V>(v)...);
    mark_done();
  }
  Stored value() const { return *value_; }

 private:
  std::optional<Stored> value_;
};

/// Awaits `core` from a coroutine on its loop: completes `handler` from the done callbacks
/// (in registration order); cancelling the awaiter cancels the future.
template <class T, class Handler>
void await_core(std::shared_ptr<FutureCore<T>> core, Handler handler) {
  core->require_loop();
  if (core->done()) {
    if (const auto task_id = CompletionTrampoline::coroutine_of_this_turn(handler)) {
      // asyncio: an await of a done future returns without yielding.
      CompletionTrampoline::run(
          *task_id, Callback([handler = std::move(handler), core = std::move(core)]() mutable {
            complete_with_result<T>(handler, core->retrieve(), [&] { return core->value(); });
          }));
      return;
    }
  }
  using Op = AwaitOp<T, Handler, FutureCore<T>>;
  auto op = std::make_shared<Op>(std::move(handler), std::move(core));
  Op::on_cancellation(op, [](const std::shared_ptr<Op>& o) {
    if (!o->state->cancel(current_cancel_message())) o->cancelled = true;
  });
  op->state->add_awaiter([op]() mutable {
    op->deliver(op->cancelled ? await_cancelled() : op->state->retrieve(),
                [&] { return op->state->value(); });
  });
}

}  // namespace loopvisor::detail
