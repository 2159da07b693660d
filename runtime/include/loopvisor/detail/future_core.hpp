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

#include "loopvisor/detail/callback.hpp"
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
  struct Op {
    Handler handler;
    std::shared_ptr<FutureCore<T>> core;
    boost::asio::cancellation_slot slot;
    std::uint64_t awaiter_id;
    bool cancelled = false;  // cancelled after the result was set, before it was delivered
  };
  auto slot = boost::asio::get_associated_cancellation_slot(handler);
  auto op = std::make_shared<Op>(Op{std::move(handler), core, slot, current_task_id(), false});
  if (slot.is_connected()) {
    slot.assign([weak = std::weak_ptr<Op>(op)](boost::asio::cancellation_type) {
      auto o = weak.lock();
      if (!o) return;
      if (!o->core->cancel(current_cancel_message())) o->cancelled = true;
    });
  }
  core->add_awaiter([op]() mutable {
    TaskScope scope(op->awaiter_id);  // the awaiter runs as itself (current_task)
    if (op->slot.is_connected()) op->slot.clear();
    std::exception_ptr error = op->cancelled
                                   ? std::make_exception_ptr(CancelledError("the await was cancelled"))
                                   : op->core->retrieve();
    complete_with_result<T>(op->handler, error, [&] { return op->core->value(); });
  });
}

}  // namespace loopvisor::detail
