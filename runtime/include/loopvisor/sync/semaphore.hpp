// Semaphore and BoundedSemaphore: loop-local, FIFO-fair permits (asyncio.Semaphore).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "loopvisor/detail/waiter_list.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor {

/// A counter of permits. `acquire()` takes one, waiting if none is free; `release()` returns
/// one, handing it straight to the oldest waiter if there is one (FIFO, no overtaking).
/// A waiter cancelled before the hand-over is removed and takes nothing; one cancelled after
/// it holds the permit and must release it, so no permit is ever lost.
///
/// A negative initial value is std::invalid_argument (asyncio raises ValueError); a release
/// that would overflow the count is InvalidStateError.
///
/// Thread safety: on the owning loop only.
class Semaphore {
 public:
  explicit Semaphore(std::int64_t value = 1) : value_(checked_value(value)) {}

  bool locked() const noexcept { return value_ == 0; }
  std::size_t value() const noexcept { return value_; }

  [[nodiscard]] boost::asio::awaitable<void> acquire() {
    if (value_ > 0 && waiters_.empty()) {
      --value_;
      co_return;
    }
    co_await waiters_.async_wait(boost::asio::use_awaitable);  // woken only with a permit
  }

  void release() {
    if (waiters_.empty() && value_ == std::numeric_limits<std::size_t>::max()) {
      throw InvalidStateError("Semaphore::release(): the permit count would overflow");
    }
    if (!waiters_.notify_one()) ++value_;
  }

  std::size_t waiters() const noexcept { return waiters_.size(); }

 protected:
  static std::size_t checked_value(std::int64_t value) {
    if (value < 0) {
      throw std::invalid_argument("Semaphore initial value must be >= 0, got " + std::to_string(value));
    }
    return static_cast<std::size_t>(value);
  }

  std::size_t value_;
  detail::WaiterList waiters_;
};

/// A Semaphore that refuses to be released above its initial value: releasing too many
/// times is InvalidStateError (asyncio raises ValueError), a bug caught where it happens.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(std::int64_t value = 1) : Semaphore(value), bound_(value_) {}

  void release() {
    if (waiters_.empty() && value_ >= bound_) {
      throw InvalidStateError("BoundedSemaphore released too many times (bound " + std::to_string(bound_) +
                              ")");
    }
    Semaphore::release();
  }

 private:
  std::size_t bound_;
};

}  // namespace loopvisor
