// Gate: in-flight operations enter it; close() refuses new ones and waits for those inside
// (Seastar's gate), for an orderly shutdown of a service on one loop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "loopvisor/detail/waiter_list.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor {

/// Usage: each operation holds `auto in = gate.enter();` (or runs under `with_gate`) for its
/// whole duration; at shutdown `co_await gate.close()` makes further `enter()` throw
/// GateClosed and returns once every holder is gone.
///
/// Holders share the gate's state, so a Holder that outlives its Gate is harmless. A task
/// waiting in close() that is cancelled raises CancelledError; the gate stays closed.
///
/// Thread safety: every member, and every Holder, on the owning loop only.
class Gate {
  struct State {
    std::size_t inside = 0;
    bool closed = false;
    detail::WaiterList closers;
  };

 public:
  /// One operation inside the gate; leaving is destroying (or moving from) it.
  class Holder {
   public:
    Holder(Holder&& other) noexcept : state_(std::move(other.state_)) {}
    Holder& operator=(Holder&& other) noexcept {
      if (this != &other) {
        leave();
        state_ = std::move(other.state_);
      }
      return *this;
    }
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;
    ~Holder() { leave(); }

    /// Leaves early (idempotent).
    void leave() noexcept {
      if (!state_) return;
      auto state = std::move(state_);
      if (--state->inside == 0 && state->closed) state->closers.notify_all();
    }

   private:
    friend class Gate;
    explicit Holder(std::shared_ptr<State> state) : state_(std::move(state)) { ++state_->inside; }
    std::shared_ptr<State> state_;
  };

  Gate() = default;
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  /// Enters; throws GateClosed once close() was called.
  [[nodiscard]] Holder enter() {
    if (state_->closed) throw GateClosed("the gate is closed: the operation was not started");
    return Holder(state_);
  }
  /// Enters, or nullopt once closed.
  [[nodiscard]] std::optional<Holder> try_enter() {
    if (state_->closed) return std::nullopt;
    return Holder(state_);
  }

  /// Closes the gate (new enter() throw GateClosed) and waits until every holder has left.
  /// Closing twice is InvalidStateError, as is closing a moved-from gate.
  [[nodiscard]] boost::asio::awaitable<void> close() {
    auto state = state_;  // the frame keeps the state even if the Gate goes away meanwhile
    if (state->closed) throw InvalidStateError("Gate::close() called twice");
    state->closed = true;
    while (state->inside > 0) co_await state->closers.async_wait(boost::asio::use_awaitable);
  }

  std::size_t count() const noexcept { return state_->inside; }
  bool is_closed() const noexcept { return state_->closed; }

 private:
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

/// `co_await with_gate(gate, fn)`: runs `co_await fn()` inside the gate; GateClosed (without
/// calling fn) if it is closed.
template <class F>
[[nodiscard]] auto with_gate(Gate& gate, F fn) -> std::invoke_result_t<F&> {
  auto in = gate.enter();
  co_return co_await fn();
}

}  // namespace loopvisor
