// Event: a loop-local flag coroutines wait for (asyncio.Event).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "loopvisor/detail/waiter_list.hpp"

namespace loopvisor {

/// `set()` wakes every waiter and makes later `wait()`s return at once until `clear()`.
/// A cancelled waiter raises CancelledError and is simply gone: it cannot absorb a `set()`.
///
/// Thread safety: every member on the owning loop only (use Channel to signal from other
/// threads). Waiters still suspended when the Event is destroyed get CancelledError.
class Event {
 public:
  bool is_set() const noexcept { return set_; }
  void set() {
    set_ = true;
    waiters_.notify_all();
  }
  void clear() noexcept { set_ = false; }

  [[nodiscard]] boost::asio::awaitable<void> wait() {
    if (set_) co_return;
    co_await waiters_.async_wait(boost::asio::use_awaitable);
  }

  std::size_t waiters() const noexcept { return waiters_.size(); }

 private:
  bool set_ = false;
  detail::WaiterList waiters_;
};

}  // namespace loopvisor
