// Channel<T>: a bounded queue from any thread into one loop (no asyncio twin; its queue.Queue+loop bridge).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>

#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/detail/sync.hpp"
#include "loopvisor/detail/waiter_list.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/loop.hpp"

namespace loopvisor {

/// What try_send did with the value.
enum class SendStatus { sent, full, closed };

/// Producers on any thread `try_send` without blocking; coroutines on the channel's loop
/// `co_await receive()`. Bounded: a full channel refuses at once (`SendStatus::full`), a closed
/// one too (`SendStatus::closed`); a refused value stays with the caller. `close()` lets
/// receivers drain what was sent, then `receive()` yields nullopt.
///
/// Thread safety: `try_send`, `send`, `close`, `size` from any thread; `receive` on the
/// channel's loop only. Receivers are served oldest first.
template <class T>
class Channel {
 public:
  /// `capacity` from 1 to 2^30; anything else is std::invalid_argument.
  Channel(Loop& loop, std::int64_t capacity) : state_(std::make_shared<State>()) {
    if (capacity < 1 || capacity > (std::int64_t{1} << 30)) {
      throw std::invalid_argument("Channel capacity must be between 1 and 2^30, got " +
                                  std::to_string(capacity));
    }
    state_->capacity = static_cast<std::size_t>(capacity);
    state_->loop = loop.shared();
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() { close(); }

  /// Moves `value` in only when it returns `sent`.
  SendStatus try_send(T& value) {
    bool wake = false;
    {
      detail::lock_guard g(state_->mu);
      if (state_->closed) return SendStatus::closed;
      if (state_->items.size() >= state_->capacity) return SendStatus::full;
      state_->items.push_back(std::move(value));
      wake = state_->wake_needed();
    }
    if (wake) state_->post_wake();
    return SendStatus::sent;
  }
  SendStatus try_send(T&& value) { return try_send(value); }

  /// As try_send, but refusal is an exception: SubmissionRejected when full, RuntimeClosed
  /// when closed.
  void send(T value) {
    switch (try_send(value)) {
      case SendStatus::sent:
        return;
      case SendStatus::full:
        throw SubmissionRejected("Channel is full (capacity " + std::to_string(state_->capacity) +
                                 "); the value was not sent");
      case SendStatus::closed:
        throw RuntimeClosed("Channel is closed; the value was not sent");
    }
  }

  /// On the loop: the next value, waiting for one; nullopt once closed and drained.
  [[nodiscard]] boost::asio::awaitable<std::optional<T>> receive() {
    auto state = state_;
    for (;;) {
      {
        detail::lock_guard g(state->mu);
        if (!state->items.empty()) {
          T value = std::move(state->items.front());
          state->items.pop_front();
          co_return std::optional<T>(std::move(value));
        }
        if (state->closed) co_return std::nullopt;
        ++state->receivers_waiting;
      }
      std::exception_ptr error;
      try {
        co_await state->receivers.async_wait(boost::asio::use_awaitable);
      } catch (...) {
        error = std::current_exception();
      }
      {
        detail::lock_guard g(state->mu);
        --state->receivers_waiting;
      }
      if (error) std::rethrow_exception(error);
    }
  }

  /// Refuses further sends; receivers drain what is queued, then get nullopt.
  void close() {
    bool wake = false;
    {
      detail::lock_guard g(state_->mu);
      if (state_->closed) return;
      state_->closed = true;
      wake = state_->wake_needed();
    }
    if (wake) state_->post_wake();
  }

  std::size_t size() const {
    detail::lock_guard g(state_->mu);
    return state_->items.size();
  }

 private:
  struct State : std::enable_shared_from_this<State> {
    mutable detail::mutex mu;
    std::deque<T> items;  // guarded by mu
    std::size_t capacity = 0;
    bool closed = false;                // guarded by mu
    std::size_t receivers_waiting = 0;  // guarded by mu
    bool wake_posted = false;           // guarded by mu: at most one wake-up in flight
    detail::WaiterList receivers;       // loop thread only
    std::shared_ptr<detail::LoopShared> loop;

    bool wake_needed() {  // with mu held
      if (receivers_waiting == 0 || wake_posted) return false;
      wake_posted = true;
      return true;
    }
    void post_wake() {
      loop->post_control([self = this->shared_from_this()] {
        {
          detail::lock_guard g(self->mu);
          self->wake_posted = false;
        }
        self->receivers.notify_all();  // each re-checks; those who find nothing wait again
      });
    }
  };
  std::shared_ptr<State> state_;
};

}  // namespace loopvisor
