// SleepWait and SleepCompletion: how one sleep() waits, and how it completes its awaiter.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "loopvisor/detail/asio_await_fix.hpp"

namespace loopvisor::detail {

/// A timer on an io_context's own executor: 48 bytes smaller than a steady_timer on
/// any_io_executor, and so is each wait's operation.
using LoopTimer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                    boost::asio::wait_traits<std::chrono::steady_clock>,
                                                    boost::asio::io_context::executor_type>;

/// What one sleep waits on, and whether it was cancelled. `timer` is empty for a yield
/// (sleep(0)). A cancel sets `cancelled` and cancels the timer, so a cancel that arrives after
/// the timer fired but before the awaiter resumed still ends the sleep with CancelledError.
template <class Timer>
struct SleepWait {
  std::optional<Timer> timer;
  bool cancelled = false;

  void cancel() noexcept {
    cancelled = true;
    if (timer) timer->cancel();
  }
};

/// The io_context behind `executor` when it is a loop's (a task's executor) or a bare
/// io_context's; null for any other executor.
boost::asio::io_context* io_context_of(const boost::asio::any_io_executor& executor) noexcept;

/// What the awaiter of a sleep receives: null, CancelledError, or the timer's error.
std::exception_ptr sleep_outcome(const boost::system::error_code& ec, bool cancelled);

/// The handler the timer (or, for a yield, the executor) completes: it turns the wait's end
/// into the sleep's outcome and completes the awaiter's handler with it. It runs on the
/// awaiter's executor. Cancellation reaches the wait through the awaiter's own cancellation
/// slot, which this holds until the end; the timer's wait gets no slot of its own.
///
/// `wait` lives either in the awaiting coroutine's frame (`co_await sleep(d)`: the Sleep object
/// is alive until the await ends) or in `owned`, for any other completion token.
template <class Handler, class Timer>
class SleepCompletion {
 public:
  SleepCompletion(Handler handler, SleepWait<Timer>* wait, std::unique_ptr<SleepWait<Timer>> owned)
      : handler_(std::move(handler)), wait_(wait), owned_(std::move(owned)) {}

  SleepCompletion(SleepCompletion&& other) noexcept
      : handler_(std::move(other.handler_)),
        wait_(other.wait_),
        owned_(std::move(other.owned_)),
        slot_(std::exchange(other.slot_, {})) {}
  SleepCompletion& operator=(SleepCompletion&&) = delete;

  // Destroyed without being invoked (its loop shut down with the sleep pending): the slot's
  // handler points at the wait, so it goes first. The slot belongs to the awaiter's
  // cancellation state, which handler_ keeps alive until this body ends.
  ~SleepCompletion() {
    if (slot_.is_connected()) slot_.clear();
  }

  using executor_type = boost::asio::associated_executor_t<Handler>;
  executor_type get_executor() const noexcept { return boost::asio::get_associated_executor(handler_); }
  using allocator_type = boost::asio::associated_allocator_t<Handler>;
  allocator_type get_allocator() const noexcept { return boost::asio::get_associated_allocator(handler_); }

  /// Routes a cancel of the awaiter to the wait, until this completes.
  void watch_cancellation() {
    auto slot = boost::asio::get_associated_cancellation_slot(handler_);
    if (!slot.is_connected()) return;
    slot.assign([wait = wait_](boost::asio::cancellation_type) noexcept { wait->cancel(); });
    slot_ = slot;
  }

  void operator()(boost::system::error_code ec = {}) {
    // Completing may end the awaiting task and free its cancellation state: the slot is let
    // go of first.
    if (slot_.is_connected()) slot_.clear();
    slot_ = {};
    std::exception_ptr outcome = sleep_outcome(ec, wait_->cancelled);
    owned_.reset();
    std::move(handler_)(std::move(outcome));
  }

 private:
  Handler handler_;
  SleepWait<Timer>* wait_;
  std::unique_ptr<SleepWait<Timer>> owned_;
  boost::asio::cancellation_slot slot_;
};

/// Starts `wait`'s timer (or a yield, for a non-positive delay) and completes `completion`.
template <class Handler, class Timer, class Executor>
void start_sleep_wait(SleepWait<Timer>* wait, std::unique_ptr<SleepWait<Timer>> owned,
                      const Executor& timer_executor, std::chrono::steady_clock::duration delay,
                      Handler handler) {
  SleepCompletion<Handler, Timer> completion(std::move(handler), wait, std::move(owned));
  wait->cancelled = false;
  completion.watch_cancellation();
  if (delay <= std::chrono::steady_clock::duration::zero()) {
    // A yield: everything already queued on the loop runs first.
    wait->timer.reset();
    boost::asio::post(std::move(completion));
    return;
  }
  wait->timer.emplace(timer_executor, delay);
  wait->timer->async_wait(std::move(completion));
}

/// Starts one sleep. `in_frame` is used when the awaiter is a coroutine co_awaiting the Sleep
/// object directly on a loop (the object then outlives the wait); otherwise the wait lives on
/// the heap with the completion.
template <class Handler>
void start_sleep(SleepWait<LoopTimer>& in_frame, std::chrono::steady_clock::duration delay, Handler handler) {
  if constexpr (awaits_operation_in_its_frame<Handler>) {
    if (auto* io = io_context_of(boost::asio::get_associated_executor(handler))) {
      start_sleep_wait(&in_frame, std::unique_ptr<SleepWait<LoopTimer>>(), io->get_executor(), delay,
                       std::move(handler));
      return;
    }
  }
  auto executor = boost::asio::get_associated_executor(handler);
  auto owned = std::make_unique<SleepWait<boost::asio::steady_timer>>();
  auto* wait = owned.get();
  start_sleep_wait(wait, std::move(owned), boost::asio::any_io_executor(executor), delay, std::move(handler));
}

}  // namespace loopvisor::detail
