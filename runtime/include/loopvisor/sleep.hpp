// sleep(d): suspend the current coroutine for a duration (asyncio.sleep); sleep(0) yields.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>

namespace loopvisor {

/// Suspends the calling coroutine for at least `delay`, letting the loop run other work.
/// `sleep(0)` (or any non-positive delay) yields once: every handler already queued runs
/// first, as asyncio.sleep(0) does. Cancellation raises CancelledError.
///
/// Thread safety: on a loop (any Asio executor), from a coroutine.
[[nodiscard]] boost::asio::awaitable<void> sleep(std::chrono::steady_clock::duration delay);

}  // namespace loopvisor
