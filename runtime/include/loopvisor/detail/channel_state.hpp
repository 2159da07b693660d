// The shared state of a Channel and its Sender/Receiver handles: a bounded deque guarded by a
// mutex, the receivers' wake-up on the channel's loop, and the senders waiting for space
// (coroutines on any loop, or plain threads blocked with a timeout).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/detail/sync.hpp"
#include "loopvisor/detail/waiter_list.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/future.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/send_status.hpp"

namespace loopvisor::detail {

template <class T>
class ChannelState : public std::enable_shared_from_this<ChannelState<T>> {
 public:
  ChannelState(std::shared_ptr<LoopShared> loop, std::size_t capacity)
      : loop_(std::move(loop)), capacity_(capacity) {}

  std::size_t capacity() const noexcept { return capacity_; }

  /// Moves `value` in only when it returns `sent`.
  SendStatus try_send(T& value) {
    bool wake = false;
    SendStatus status;
    {
      lock_guard g(mu_);
      status = push_locked(value, wake);
    }
    if (wake) post_wake();
    return status;
  }

  /// Plain thread: waits up to `timeout` for space. `full` means the timeout passed.
  SendStatus send_for(T& value, std::chrono::steady_clock::duration timeout) {
    if (loop_->is_current()) {
      throw WrongThreadError(
          "Channel: a blocking send on the channel's own loop would wait for itself; use try_send or "
          "co_await "
          "async_send");
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool wake = false;
    SendStatus status;
    {
      unique_lock lock(mu_);
      ++blocked_senders_;
      space_.wait_until(lock, deadline, [&] { return closed_ || items_.size() < capacity_; });
      --blocked_senders_;
      status = push_locked(value, wake);
    }
    if (wake) post_wake();
    return status;
  }

  /// Coroutine on any loop: waits for space without blocking its thread. RuntimeClosed if the
  /// channel is (or gets) closed; the value is then dropped with the coroutine's frame.
  boost::asio::awaitable<void> async_send(T value) {
    auto self = this->shared_from_this();
    for (;;) {
      Future<void> space;  // on the sender's loop
      {
        unique_lock lock(mu_);
        bool wake = false;
        const SendStatus status = push_locked(value, wake);
        if (status == SendStatus::closed) throw RuntimeClosed("Channel is closed; the value was not sent");
        if (status == SendStatus::sent) {
          lock.unlock();
          if (wake) post_wake();
          co_return;
        }
        // Full: a receive (or close) wakes this sender on its own loop.
        space_waiters_.push_back({loop_shared(Loop::current()), space});
      }
      co_await space;  // a cancelled sender cancels the future; the wake-up then finds it done
    }
  }

  /// On the channel's loop: the next value, waiting for one; nullopt once closed and drained.
  boost::asio::awaitable<std::optional<T>> receive() {
    auto self = this->shared_from_this();
    for (;;) {
      {
        unique_lock lock(mu_);
        if (!items_.empty()) {
          T value = std::move(items_.front());
          items_.pop_front();
          auto wake = take_space_waiters(lock);
          lock.unlock();
          wake_senders(wake);
          co_return std::optional<T>(std::move(value));
        }
        if (closed_) co_return std::nullopt;
        ++receivers_waiting_;
      }
      std::exception_ptr error;
      try {
        co_await receivers_.async_wait(boost::asio::use_awaitable);
      } catch (...) {
        error = std::current_exception();
      }
      {
        lock_guard g(mu_);
        --receivers_waiting_;
      }
      if (error) std::rethrow_exception(error);
    }
  }

  /// Refuses further sends and wakes every waiter; receivers drain what is queued.
  void close() {
    bool wake = false;
    std::vector<SpaceWaiter> senders;
    {
      unique_lock lock(mu_);
      if (closed_) return;
      closed_ = true;
      wake = wake_needed();
      senders.swap(space_waiters_);
    }
    space_.notify_all();
    wake_senders(senders);
    if (wake) post_wake();
  }

  bool closed() const {
    lock_guard g(mu_);
    return closed_;
  }

  std::size_t size() const {
    lock_guard g(mu_);
    return items_.size();
  }

 private:
  /// A coroutine waiting for space: woken on its loop by setting `space` there.
  struct SpaceWaiter {
    std::shared_ptr<LoopShared> loop;
    Future<void> space;
  };

  /// With mu_ held: takes `value` if the channel is open and has room; `wake` tells whether a
  /// receiver wake-up must be posted (after unlocking).
  SendStatus push_locked(T& value, bool& wake) {
    if (closed_) return SendStatus::closed;
    if (items_.size() >= capacity_) return SendStatus::full;
    items_.push_back(std::move(value));
    wake = wake_needed();
    return SendStatus::sent;
  }

  bool wake_needed() {  // with mu_ held
    if (receivers_waiting_ == 0 || wake_posted_) return false;
    wake_posted_ = true;
    return true;
  }

  void post_wake() {
    loop_->post_control([self = this->shared_from_this()] {
      {
        lock_guard g(self->mu_);
        self->wake_posted_ = false;
      }
      self->receivers_.notify_all();  // each re-checks; those who find nothing wait again
    });
  }

  /// With mu_ held, after an item left: blocked threads are signalled; waiting coroutines are
  /// taken to be woken (all of them: each retries, and one cancelled meanwhile cannot swallow
  /// the wake-up another needed).
  std::vector<SpaceWaiter> take_space_waiters(unique_lock&) {
    if (blocked_senders_ > 0) space_.notify_one();
    std::vector<SpaceWaiter> out;
    out.swap(space_waiters_);
    return out;
  }

  static void wake_senders(std::vector<SpaceWaiter>& senders) {
    for (auto& w : senders) {
      w.loop->post_control([space = std::move(w.space)]() mutable {
        if (!space.done()) space.set_result();
      });
    }
  }

  std::shared_ptr<LoopShared> loop_;
  const std::size_t capacity_;
  mutable mutex mu_;
  std::deque<T> items_;                     // guarded by mu_
  bool closed_ = false;                     // guarded by mu_
  std::size_t receivers_waiting_ = 0;       // guarded by mu_
  bool wake_posted_ = false;                // guarded by mu_: at most one receiver wake-up in flight
  std::size_t blocked_senders_ = 0;         // guarded by mu_
  std::vector<SpaceWaiter> space_waiters_;  // guarded by mu_
  condition_variable space_;                // blocked senders wait here, with mu_
  WaiterList receivers_;                    // the channel's loop only
};

}  // namespace loopvisor::detail
