// Channel<T>: a bounded queue from any thread into one loop (no asyncio twin; its queue.Queue+loop
// bridge), and its Sender/Receiver halves whose lifetimes close it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "loopvisor/detail/channel_state.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/loop.hpp"

namespace loopvisor {

namespace detail {
template <class T>
std::shared_ptr<ChannelState<T>> make_channel_state(Loop& loop, std::int64_t capacity) {
  if (capacity < 1 || capacity > (std::int64_t{1} << 30)) {
    throw std::invalid_argument("Channel capacity must be between 1 and 2^30, got " +
                                std::to_string(capacity));
  }
  return std::make_shared<ChannelState<T>>(loop_shared(loop), static_cast<std::size_t>(capacity));
}

/// The sending operations, shared by Channel and Sender.
template <class T, class Derived>
class ChannelSendOps {
 public:
  /// Never blocks; moves `value` in only when it returns `sent` (a refused value stays with
  /// the caller).
  SendStatus try_send(T& value) { return state().try_send(value); }
  SendStatus try_send(T&& value) { return state().try_send(value); }

  /// As try_send, but refusal is an exception: SubmissionRejected when full, RuntimeClosed
  /// when closed.
  void send(T value) {
    switch (state().try_send(value)) {
      case SendStatus::sent:
        return;
      case SendStatus::full:
        throw SubmissionRejected("Channel is full (capacity " + std::to_string(state().capacity()) +
                                 "); the value was not sent");
      case SendStatus::closed:
        throw RuntimeClosed("Channel is closed; the value was not sent");
    }
  }

  /// Plain thread: blocks up to `timeout` for space. `full` means the timeout passed (the
  /// value stays with the caller), `closed` that the channel was or got closed. On the
  /// channel's own loop it is WrongThreadError (it would wait for itself).
  template <class Rep, class Period>
  SendStatus send_for(T& value, std::chrono::duration<Rep, Period> timeout) {
    return state().send_for(value, std::chrono::ceil<std::chrono::steady_clock::duration>(timeout));
  }
  template <class Rep, class Period>
  SendStatus send_for(T&& value, std::chrono::duration<Rep, Period> timeout) {
    return send_for(value, timeout);
  }

  /// `co_await async_send(v)` from a coroutine on any loop: waits for space without blocking
  /// its thread; RuntimeClosed if the channel is or gets closed first. Cancelling the sender
  /// loses nothing already in the channel; its own value is dropped.
  [[nodiscard]] boost::asio::awaitable<void> async_send(T value) {
    return state().async_send(std::move(value));
  }

  bool closed() const { return state().closed(); }
  std::size_t size() const { return state().size(); }
  std::size_t capacity() const { return state().capacity(); }

 private:
  ChannelState<T>& state() const { return static_cast<const Derived&>(*this).channel_state(); }
};
}  // namespace detail

/// Producers on any thread `try_send` (never blocks), `send_for` (blocks a plain thread up to a
/// timeout) or `co_await async_send` (a coroutine on any loop waits for space); coroutines on
/// the channel's loop `co_await receive()`. Bounded: a full channel refuses or makes the sender
/// wait, a closed one refuses. `close()` lets receivers drain what was sent, then `receive()`
/// yields nullopt; waiting senders get RuntimeClosed.
///
/// For closing tied to ownership use `make_channel`, whose Sender and Receiver close the
/// channel when the last sender or the receiver goes away.
///
/// Thread safety: every member from any thread, except `receive` on the channel's loop only.
/// Receivers are served oldest first. Destroying the Channel closes it.
template <class T>
class Channel : public detail::ChannelSendOps<T, Channel<T>> {
 public:
  /// `capacity` from 1 to 2^30; anything else is std::invalid_argument.
  Channel(Loop& loop, std::int64_t capacity) : state_(detail::make_channel_state<T>(loop, capacity)) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() { state_->close(); }

  /// On the loop: the next value, waiting for one; nullopt once closed and drained.
  [[nodiscard]] boost::asio::awaitable<std::optional<T>> receive() { return state_->receive(); }

  /// Refuses further sends; receivers drain what is queued, then get nullopt.
  void close() { state_->close(); }

 private:
  friend class detail::ChannelSendOps<T, Channel<T>>;
  detail::ChannelState<T>& channel_state() const { return *state_; }
  std::shared_ptr<detail::ChannelState<T>> state_;
};

/// The sending half from make_channel. Copies share one sending side; when the last copy is
/// destroyed the channel closes, so the receiver drains and ends instead of waiting forever.
/// Thread safety: as Channel's sending members.
template <class T>
class Sender : public detail::ChannelSendOps<T, Sender<T>> {
 public:
  /// Closes the channel now, for every sender.
  void close() { life_->state->close(); }

 private:
  /// Shared by every copy; the last one out closes the channel.
  struct Life {
    explicit Life(std::shared_ptr<detail::ChannelState<T>> s) : state(std::move(s)) {}
    Life(const Life&) = delete;
    Life& operator=(const Life&) = delete;
    ~Life() { state->close(); }
    const std::shared_ptr<detail::ChannelState<T>> state;
  };
  explicit Sender(std::shared_ptr<detail::ChannelState<T>> state)
      : life_(std::make_shared<Life>(std::move(state))) {}
  template <class U>
  friend auto make_channel(Loop& loop, std::int64_t capacity);
  friend class detail::ChannelSendOps<T, Sender<T>>;
  detail::ChannelState<T>& channel_state() const { return *life_->state; }
  std::shared_ptr<Life> life_;
};

/// The receiving half from make_channel: move-only. Destroying it closes the channel, so
/// senders are refused (or woken with RuntimeClosed) instead of waiting on a full channel that
/// nobody drains. Thread safety: `receive` on the channel's loop only.
template <class T>
class Receiver {
 public:
  Receiver(Receiver&& other) noexcept = default;
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      if (state_) state_->close();
      state_ = std::move(other.state_);
    }
    return *this;
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() {
    if (state_) state_->close();
  }

  /// On the channel's loop: the next value; nullopt once closed (every sender gone) and drained.
  [[nodiscard]] boost::asio::awaitable<std::optional<T>> receive() { return checked().receive(); }
  /// Stops accepting: senders are refused from now on; what is queued can still be received.
  void close() { checked().close(); }
  std::size_t size() const { return checked().size(); }

 private:
  explicit Receiver(std::shared_ptr<detail::ChannelState<T>> state) : state_(std::move(state)) {}
  template <class U>
  friend auto make_channel(Loop& loop, std::int64_t capacity);
  detail::ChannelState<T>& checked() const {
    if (!state_) throw InvalidStateError("Receiver was moved from");
    return *state_;
  }
  std::shared_ptr<detail::ChannelState<T>> state_;
};

/// A channel into `loop` as a (Sender, Receiver) pair: `auto [tx, rx] = make_channel<int>(loop, 64);`.
/// It closes when the last Sender or the Receiver is destroyed.
template <class T>
[[nodiscard]] auto make_channel(Loop& loop, std::int64_t capacity) {
  auto state = detail::make_channel_state<T>(loop, capacity);
  return std::pair<Sender<T>, Receiver<T>>(Sender<T>(state), Receiver<T>(state));
}

}  // namespace loopvisor
