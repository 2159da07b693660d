// deaf_to_cancellation: the filter a coroutine installs while it waits for work it cancelled.
#pragma once

#include <boost/asio/cancellation_type.hpp>

namespace loopvisor::detail {

/// For `this_coro::reset_cancellation_state(deaf_to_cancellation)`: no cancellation reaches
/// the coroutine's awaits until the state is reset again. Used where asyncio awaits the
/// unwinding of what it cancelled (wait_for, timeout, TaskGroup, Condition's re-acquire);
/// whoever uses it notices requests that arrive meanwhile by the task's cancelling() count.
inline boost::asio::cancellation_type deaf_to_cancellation(boost::asio::cancellation_type) noexcept {
  return boost::asio::cancellation_type::none;
}

}  // namespace loopvisor::detail
