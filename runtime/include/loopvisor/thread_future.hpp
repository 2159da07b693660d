// ThreadFuture<T>: the thread-safe future returned by cross-thread submission (concurrent.futures.Future).
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <type_traits>

#include "loopvisor/detail/await_op.hpp"
#include "loopvisor/detail/future_state.hpp"
#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/detail/task_executor.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor {

/// The result of work submitted to a loop from any thread (`run_coroutine_threadsafe`,
/// `Loop::submit`), Python's concurrent.futures.Future with asyncio's cancellation.
///
/// States: pending, then exactly one of done (a value or an exception) or cancelled.
///
/// - `get()` blocks until not pending; `get(timeout)` throws TimeoutError if still pending
///   then; both throw CancelledError if cancelled and rethrow the work's exception.
/// - `cancel()` returns true if the future was pending: it becomes cancelled at once (waiters
///   wake with CancelledError) and the work is cancelled on its loop: a queued coroutine never
///   starts, a running task sees CancelledError at its next await.
/// - `co_await future` from a coroutine on any loop suspends that coroutine (not its thread)
///   and resumes it on its own loop with the result. Cancelling the awaiting coroutine cancels
///   the future, as asyncio.wrap_future does.
///
/// Thread safety: distinct objects safe. Shared objects: every member is safe from any thread.
/// `get()`/`wait()` on the loop that must complete the future would deadlock and throw
/// WrongThreadError instead. Done callbacks run on the thread that completes the future (a
/// loop thread, or the thread calling `cancel()`), or at once on the caller if already done;
/// they must be quick and must not throw (a throw is logged).
template <class T>
class ThreadFuture;

namespace detail {
/// The future's shared state, for the runtime's own composition (not part of the public API).
template <class T>
const std::shared_ptr<FutureState<T>>& state_of(const ThreadFuture<T>& future) noexcept;
}  // namespace detail

template <class T>
class [[nodiscard]] ThreadFuture {
 public:
  using value_type = T;
  using State = detail::FutureState<T>;

  ThreadFuture() = default;
  explicit ThreadFuture(std::shared_ptr<State> state) : state_(std::move(state)) {}

  bool valid() const noexcept { return state_ != nullptr; }
  bool done() const { return checked().status() != State::Status::pending; }
  bool cancelled() const { return checked().status() == State::Status::cancelled; }
  bool cancel() { return checked().cancel(); }

  T get() {
    check_may_block();
    state_->wait();
    return read();
  }

  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    if (!wait_for(timeout)) {
      throw TimeoutError(
          "ThreadFuture::get: no result within " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
          " ms; the work is still running (cancel() it or wait longer)");
    }
    return read();
  }

  /// Blocks up to `timeout`; true if the future is no longer pending.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    check_may_block();
    return state_->wait_until(std::chrono::steady_clock::now() +
                              std::chrono::ceil<std::chrono::steady_clock::duration>(timeout));
  }

  void wait() const {
    check_may_block();
    state_->wait();
  }

  /// Blocks until done; the work's exception (CancelledError if cancelled), or null.
  std::exception_ptr exception() const {
    wait();
    return state_->exception_or_null();
  }

  /// Calls `fn(future)` once the future is done or cancelled. See the class notes for where.
  void add_done_callback(std::function<void(ThreadFuture<T>)> fn) {
    checked().listen([state = state_, fn = std::move(fn)]() mutable {
      try {
        fn(ThreadFuture<T>(state));
      } catch (const std::exception& e) {
        detail::report_callback_failure("ThreadFuture done callback", e.what());
      } catch (...) {
        detail::report_callback_failure("ThreadFuture done callback", "unknown exception");
      }
    });
  }

  /// `co_await future` (or `co_await future.async_wait()`, the same as an awaitable<T>) from a
  /// coroutine on any loop: suspends the coroutine, not the thread, and resumes it on its own
  /// loop with the result.
  [[nodiscard]] boost::asio::awaitable<T> async_wait() const {
    return ThreadFuture(state_)(boost::asio::use_awaitable);
  }

  /// Asio asynchronous operation on any completion token.
  /// Completion signature: void(std::exception_ptr, T), or void(std::exception_ptr) for void.
  using completion_signature = typename detail::result_signature<T>::type;
  /// A handle is cheap to copy: `co_await task` keeps a copy for the await (asio_await_fix.hpp).
  using awaited_by_copy = void;

  template <boost::asio::completion_token_for<completion_signature> Token>
  auto operator()(Token&& token) const {
    using Sig = completion_signature;
    return boost::asio::async_initiate<Token, Sig>(
        [](auto handler, std::shared_ptr<State> st) { await_state(std::move(st), std::move(handler)); },
        token, state_);
  }

  /// The runtime's own access to the shared state (detail::state_of).
  friend const std::shared_ptr<State>& detail::state_of<T>(const ThreadFuture<T>& future) noexcept;

 private:
  State& checked() const {
    if (!state_) throw InvalidStateError("ThreadFuture has no state (default-constructed or moved from)");
    return *state_;
  }

  void check_may_block() const {
    const auto* producer = checked().producer();
    if (producer != nullptr && producer->is_current() && state_->status() == State::Status::pending) {
      throw WrongThreadError(
          "blocking on a ThreadFuture from the loop that must complete it "
          "would deadlock; co_await it instead");
    }
  }

  T read() {
    if (state_->failed()) State::keep_for_reader(state_);
    state_->rethrow_if_failed();
    if constexpr (std::is_void_v<T>) {
      return;
    } else {
      return state_->take_value();
    }
  }

  template <class Handler>
  static void await_state(std::shared_ptr<State> st, Handler handler) {
    using Op = detail::AwaitOp<T, Handler, State>;
    auto executor = boost::asio::get_associated_executor(handler);
    auto op = std::make_shared<Op>(std::move(handler), std::move(st));
    // asyncio: a result not yet delivered is dropped; the awaiter sees CancelledError.
    Op::on_cancellation(op, [](const std::shared_ptr<Op>& o) {
      if (!o->state->cancel()) o->cancelled = true;
    });
    detail::LoopShared* home = detail::LoopShared::current();
    op->state->listen([op, home, executor]() mutable {
      auto deliver = [op]() mutable {
        op->deliver(op->cancelled ? detail::await_cancelled() : op->state->exception_or_null(),
                    [&] { return op->state->take_value(); });
      };
      if (home != nullptr) {
        home->post_control(std::move(deliver));
      } else {
        boost::asio::post(executor, std::move(deliver));
      }
    });
  }

  std::shared_ptr<State> state_;
};

namespace detail {
template <class T>
const std::shared_ptr<FutureState<T>>& state_of(const ThreadFuture<T>& future) noexcept {
  return future.state_;
}

template <class T>
std::shared_ptr<FutureState<T>> make_future_state() {
  return std::make_shared<FutureState<T>>();
}
}  // namespace detail

}  // namespace loopvisor
