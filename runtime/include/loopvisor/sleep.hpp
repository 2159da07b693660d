// sleep(d): suspend the current coroutine for a duration (asyncio.sleep); sleep(0) yields.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>

#include "loopvisor/detail/sleep_wait.hpp"

namespace loopvisor {

/// The asynchronous operation sleep() returns. `co_await sleep(d)` in a coroutine on a loop
/// waits without a coroutine frame of its own: the timer lives in this object, which lives in
/// the awaiting frame until the await ends. Completion signature: void(std::exception_ptr),
/// null once the delay has passed. Any other Asio completion token works too
/// (`sleep(d)(asio::use_future)`, `asio::deferred`, a callback); the wait then lives on the
/// heap until it completes, on the token's associated executor.
///
/// Where an `awaitable<void>` is wanted (a vector of awaitables, create_task, wait_for), it
/// converts to one: a coroutine that awaits it, with the frame that costs. gather, wait and
/// as_completed take it as it is.
///
/// An object of this type is awaited once, as an rvalue (`co_await sleep(d)`, or
/// `co_await std::move(s)`); awaiting it again raises InvalidStateError. It cannot be copied
/// or moved: the wait it starts lives in it.
class [[nodiscard]] Sleep {
 public:
  explicit Sleep(std::chrono::steady_clock::duration delay) noexcept : wait_(delay) {}
  Sleep(const Sleep&) = delete;
  Sleep& operator=(const Sleep&) = delete;
  ~Sleep() = default;

  /// This sleep as a coroutine, awaiting a new Sleep of the same delay. Only before it is
  /// awaited (InvalidStateError after).
  [[nodiscard]] boost::asio::awaitable<void> as_awaitable() &&;
  operator boost::asio::awaitable<void>() && { return std::move(*this).as_awaitable(); }  // NOLINT

  template <boost::asio::completion_token_for<void(std::exception_ptr)> Token>
  auto operator()(Token&& token) && {
    // The delay is read now (none once awaited). Only a coroutine's direct co_await, which
    // passes its own handler here and starts the wait at once, waits in this object; any other
    // token, a lazy one (deferred) included, may start the wait after this object is gone.
    detail::SleepWait<detail::LoopTimer>* in_frame =
        detail::awaits_operation_in_its_frame<std::decay_t<Token>> ? &wait_ : nullptr;
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        [in_frame, delay = wait_.take_delay()](auto handler) {
          detail::start_sleep(in_frame, delay, std::move(handler));
        },
        token);
  }

 private:
  detail::SleepWait<detail::LoopTimer> wait_;
};

/// Suspends the calling coroutine for at least `delay`, letting the loop run other work:
/// `co_await sleep(d)`. `sleep(0)` (or any non-positive delay) yields once: every handler
/// already queued runs first, as asyncio.sleep(0) does. Cancellation raises CancelledError,
/// also when it arrives after the delay passed but before the coroutine resumed.
///
/// Thread safety: on a loop (any Asio executor), from a coroutine.
inline Sleep sleep(std::chrono::steady_clock::duration delay) noexcept { return Sleep(delay); }

}  // namespace loopvisor
