// SleepWait and SleepCompletion: how one sleep() waits, and how it completes its awaiter.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <utility>

#include "loopvisor/detail/asio_await_fix.hpp"
#include "loopvisor/detail/slot_watch.hpp"

namespace loopvisor::detail {

/// A timer on an io_context's own executor: 48 bytes smaller than a steady_timer on
/// any_io_executor, and so is each wait's operation.
using LoopTimer = boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                                    boost::asio::wait_traits<std::chrono::steady_clock>,
                                                    boost::asio::io_context::executor_type>;

/// What one sleep waits on, and whether it was cancelled. Before its wait starts it holds the
/// delay; a sleep(0) yields and never has a timer. A cancel sets `cancelled` and cancels the
/// timer, so a cancel that arrives after the timer fired but before the awaiter resumed still
/// ends the sleep with CancelledError. It is used once.
///
/// The delay and the timer share a union, and the state is one byte beside `cancelled`: a
/// std::optional timer and a separate delay would add 16 bytes, which take every sleeping
/// task's frame over one of the frame allocator's 16-byte steps.
template <class Timer>
class SleepWait {
 public:
  using duration = std::chrono::steady_clock::duration;

  explicit SleepWait(duration delay) noexcept : delay_(delay) {}
  ~SleepWait() {
    if (state_ == State::timing) timer_.~Timer();
  }
  SleepWait(const SleepWait&) = delete;
  SleepWait& operator=(const SleepWait&) = delete;

  /// The delay, once: empty after the first call (the Sleep object was awaited already).
  std::optional<duration> take_delay() noexcept {
    if (state_ != State::fresh) return std::nullopt;
    state_ = State::taken;
    return delay_;
  }

  /// Starts the wait taken by take_delay(): a timer for `delay`, or nothing for a yield.
  /// Returns the timer, or null for a yield.
  template <class Executor>
  Timer* start(const Executor& executor, duration delay) {
    if (delay <= duration::zero()) return nullptr;
    new (&timer_) Timer(executor, delay);
    state_ = State::timing;
    return &timer_;
  }

  void cancel() noexcept {
    cancelled = true;
    if (state_ == State::timing) timer_.cancel();
  }

  bool cancelled = false;

 private:
  enum class State : unsigned char { fresh, taken, timing };
  union {
    duration delay_;
    Timer timer_;
  };
  State state_ = State::fresh;
};

/// The io_context behind `executor` when it is a loop's (a task's executor) or a bare
/// io_context's; null for any other executor.
boost::asio::io_context* io_context_of(const boost::asio::any_io_executor& executor) noexcept;

/// What the awaiter of a sleep receives: null, CancelledError, or the timer's error.
std::exception_ptr sleep_outcome(const boost::system::error_code& ec, bool cancelled);
/// InvalidStateError for a Sleep object awaited twice.
std::exception_ptr sleep_reused();

/// The handler the timer (or, for a yield, the executor) completes: it turns the wait's end
/// into the sleep's outcome and completes the awaiter's handler with it. It runs on the
/// awaiter's executor. Cancellation reaches the wait through the awaiter's own cancellation
/// slot, which this watches until the end; the timer's wait gets no slot of its own.
///
/// The wait lives either in the awaiting coroutine's frame (`co_await sleep(d)`: the Sleep
/// object is alive until the await ends) or, when `Owns`, in this handler, for any other
/// completion token. It is kept small: it is part of every sleeping task's wait operation.
template <class Handler, class Timer, bool Owns>
class SleepCompletion {
 public:
  using Wait = SleepWait<Timer>;
  using Owned = std::conditional_t<Owns, std::unique_ptr<Wait>, Wait*>;

  SleepCompletion(Handler handler, Owned wait) : wait_(std::move(wait)), watch_(std::move(handler)) {}

  using executor_type = boost::asio::associated_executor_t<Handler>;
  executor_type get_executor() const noexcept {
    return boost::asio::get_associated_executor(watch_.handler());
  }
  using allocator_type = boost::asio::associated_allocator_t<Handler>;
  allocator_type get_allocator() const noexcept {
    return boost::asio::get_associated_allocator(watch_.handler());
  }

  Wait& wait() const noexcept { return *wait_; }

  /// Routes a cancel of the awaiter to the wait, until this completes.
  void watch_cancellation() { watch_.template watch<CancelWait>(&wait()); }

  void operator()(boost::system::error_code ec = {}) {
    watch_.release_slot();
    std::exception_ptr outcome = sleep_outcome(ec, wait_->cancelled);
    if constexpr (Owns) wait_.reset();
    std::move(watch_.handler())(std::move(outcome));
  }

 private:
  struct CancelWait {
    explicit CancelWait(Wait* w) noexcept : wait(w) {}
    void operator()(boost::asio::cancellation_type) noexcept { wait->cancel(); }
    Wait* wait;
  };

  // Destroyed unrun (its loop shut down with the sleep pending), watch_ goes first: the slot's
  // watcher points at the wait.
  Owned wait_;
  SlotWatch<Handler> watch_;
};

/// Starts the completion's wait (a timer, or a yield for a non-positive delay); the completion
/// runs when it ends.
template <class Handler, class Timer, bool Owns, class Executor>
void start_sleep_wait(SleepCompletion<Handler, Timer, Owns> completion, const Executor& timer_executor,
                      std::chrono::steady_clock::duration delay) {
  auto& wait = completion.wait();
  completion.watch_cancellation();
  if (Timer* timer = wait.start(timer_executor, delay)) {
    timer->async_wait(std::move(completion));
  } else {
    // A yield: everything already queued on the loop runs first.
    boost::asio::post(std::move(completion));
  }
}

/// Completes `handler` with InvalidStateError: a Sleep object awaited a second time.
template <class Handler>
void refuse_second_sleep(Handler handler) {
  auto executor = boost::asio::get_associated_executor(handler);
  boost::asio::post(executor, [h = std::move(handler)]() mutable { std::move(h)(sleep_reused()); });
}

/// Starts one sleep of `delay` (none: the Sleep object was awaited before, which is refused).
/// `in_frame` is the Sleep object's own wait when the caller is a coroutine co_awaiting it
/// directly (the object is then alive until the await ends), else null. That wait is used on a
/// loop or an io_context; anything else gets a wait of its own on the heap.
template <class Handler>
void start_sleep(SleepWait<LoopTimer>* in_frame, std::optional<std::chrono::steady_clock::duration> delay,
                 Handler handler) {
  if (!delay) return refuse_second_sleep(std::move(handler));
  if (in_frame != nullptr) {
    if (auto* io = io_context_of(boost::asio::get_associated_executor(handler))) {
      start_sleep_wait(SleepCompletion<Handler, LoopTimer, false>(std::move(handler), in_frame),
                       io->get_executor(), *delay);
      return;
    }
  }
  boost::asio::any_io_executor executor = boost::asio::get_associated_executor(handler);
  using Heap = SleepCompletion<Handler, boost::asio::steady_timer, true>;
  start_sleep_wait(Heap(std::move(handler), std::make_unique<SleepWait<boost::asio::steady_timer>>(*delay)),
                   executor, *delay);
}

}  // namespace loopvisor::detail
