// Condition: wait for a notification while holding a Lock (asyncio.Condition).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>

#include "loopvisor/detail/task_state.hpp"
#include "loopvisor/detail/uncancellable.hpp"
#include "loopvisor/detail/waiter_list.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/sync/lock.hpp"

namespace loopvisor {

/// `wait()` releases the lock, waits for `notify`, and re-acquires the lock before returning
/// — also when the wait is cancelled, so the caller always holds the lock afterwards, as in
/// asyncio. `notify(n)` wakes up to n waiters, oldest first; `notify_all()` all of them.
///
/// Thread safety: on the owning loop only.
class Condition {
 public:
  explicit Condition(Lock& lock) : lock_(&lock) {}

  Lock& lock() noexcept { return *lock_; }

  [[nodiscard]] boost::asio::awaitable<void> wait() {
    if (!lock_->locked()) throw InvalidStateError("Condition::wait() without holding its lock");
    lock_->release();
    std::exception_ptr cancelled;
    try {
      co_await waiters_.async_wait(boost::asio::use_awaitable);
    } catch (...) {
      cancelled = std::current_exception();
    }
    // A cancel that arrived after the notify (the wake-up already queued) still counts.
    auto state = co_await boost::asio::this_coro::cancellation_state;
    if (!cancelled && state.cancelled() != boost::asio::cancellation_type::none) {
      cancelled = detail::current_cancelled_error("Condition::wait()");
    }
    // Re-acquire on every path, deaf to cancellation: the caller's scope expects to hold the
    // lock. A cancel requested meanwhile is noticed by its count and raised afterwards.
    auto task = detail::current_task_state();
    const int requests = task ? task->cancelling() : 0;
    co_await boost::asio::this_coro::reset_cancellation_state(detail::deaf_to_cancellation);
    co_await lock_->acquire();
    co_await boost::asio::this_coro::reset_cancellation_state();
    if (!cancelled && task && task->cancelling() > requests) {
      cancelled = detail::current_cancelled_error("Condition::wait()");
    }
    if (cancelled) std::rethrow_exception(cancelled);
  }

  /// Waits until `predicate()` holds (checked with the lock held).
  [[nodiscard]] boost::asio::awaitable<void> wait_for(std::function<bool()> predicate) {
    while (!predicate()) co_await wait();
  }

  void notify(std::size_t n = 1) {
    if (!lock_->locked()) throw InvalidStateError("Condition::notify() without holding its lock");
    for (std::size_t i = 0; i < n && waiters_.notify_one(); ++i) {
    }
  }
  void notify_all() { notify(waiters_.size()); }

 private:
  Lock* lock_;
  detail::WaiterList waiters_;
};

}  // namespace loopvisor
