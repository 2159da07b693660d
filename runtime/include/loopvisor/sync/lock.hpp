// Lock: a loop-local, FIFO-fair mutual exclusion for coroutines (asyncio.Lock).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "loopvisor/detail/misuse.hpp"
#include "loopvisor/detail/waiter_list.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor {

/// `co_await lock.acquire()` ... `lock.release()`, or `auto guard = co_await lock.scoped();`.
///
/// FIFO-fair: release hands the lock straight to the oldest waiter, so a newcomer cannot
/// overtake it. Cancellation-safe: a waiter cancelled before it was handed the lock is removed
/// and never takes it; one cancelled after the hand-over still returns from acquire() holding
/// it (and sees the cancellation at its next await), so the lock is never lost.
///
/// Thread safety: on the owning loop only.
class Lock {
 public:
  class Guard {
   public:
    explicit Guard(Lock* lock) noexcept : lock_(lock) {}
    Guard(Guard&& other) noexcept : lock_(std::exchange(other.lock_, nullptr)) {}
    Guard& operator=(Guard&&) = delete;
    /// Releases the lock. If the user already released it by hand, that misuse is reported
    /// (never thrown: a destructor may not throw).
    ~Guard() {
      if (lock_ == nullptr) return;
      if (lock_->locked()) {
        lock_->release();
      } else {
        detail::report_misuse("Lock::Guard: the lock was already released when its guard went out of scope");
      }
    }

   private:
    Lock* lock_;
  };

  bool locked() const noexcept { return locked_; }

  [[nodiscard]] boost::asio::awaitable<void> acquire() {
    if (!locked_ && waiters_.empty()) {
      locked_ = true;
      co_return;
    }
    co_await waiters_.async_wait(boost::asio::use_awaitable);  // woken only by a hand-over
  }

  /// Acquires and returns a guard that releases on destruction.
  [[nodiscard]] boost::asio::awaitable<Guard> scoped() {
    co_await acquire();
    co_return Guard(this);
  }

  /// Releases; InvalidStateError if not locked (asyncio raises RuntimeError).
  void release() {
    if (!locked_) throw InvalidStateError("Lock::release() of a lock that is not held");
    if (!waiters_.notify_one()) locked_ = false;  // else: ownership passed on, stays locked
  }

  std::size_t waiters() const noexcept { return waiters_.size(); }

 private:
  bool locked_ = false;
  detail::WaiterList waiters_;
};

}  // namespace loopvisor
