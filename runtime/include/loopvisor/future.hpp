// Future<T>: a loop-bound result that someone sets later (asyncio.Future).
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "loopvisor/detail/future_core.hpp"
#include "loopvisor/detail/result_signature.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor {

/// asyncio.Future on one loop: created pending, then set once with `set_result`,
/// `set_exception` or `cancel(msg)`; a second set is InvalidStateError, and so is reading
/// `result()`/`exception()` before it is done. `co_await future` from any
/// coroutine on its loop waits for it; cancelling that awaiting task cancels the future (as
/// awaiting a future does in asyncio). Done callbacks are scheduled with call_soon in
/// registration order, awaiters among them; `remove_done_callback(id)` takes one back. An
/// exception nobody read is reported as "Future exception was never retrieved" when the last
/// handle goes.
///
/// Thread safety: every member on the future's loop only (WrongThreadError elsewhere); copies
/// share the state. Across threads use ThreadFuture.
template <class T = void>
class Future {
 public:
  using Core = detail::FutureCore<T>;

  /// A pending future on the current loop (WrongThreadError off a loop).
  Future() : core_(std::make_shared<Core>()) {}

  bool done() const { return core().done(); }
  bool cancelled() const { return core().cancelled(); }

  template <class... V>
  void set_result(V&&... value) {
    core().set_value(std::forward<V>(value)...);
  }
  void set_exception(std::exception_ptr error) {
    if (!error) throw std::invalid_argument("Future::set_exception(nullptr): give an exception");
    core().set_error(std::move(error));
  }
  /// False if already done; else cancels (with `message` for its CancelledError) and true.
  bool cancel(std::string message = {}) { return core().cancel(std::move(message)); }

  T result() {
    auto& c = core();
    c.require_done("result");
    if (auto e = c.retrieve()) std::rethrow_exception(e);
    if constexpr (!std::is_void_v<T>) return c.value();
  }
  /// The exception set, or null; CancelledError if cancelled.
  std::exception_ptr exception() {
    auto& c = core();
    c.require_done("exception");
    if (c.cancelled()) std::rethrow_exception(c.retrieve());
    return c.retrieve();
  }

  std::uint64_t add_done_callback(std::function<void(Future<T>)> fn) {
    return core().add_callback([core = core_, fn = std::move(fn)]() { fn(Future<T>(core)); });
  }
  bool remove_done_callback(std::uint64_t id) { return core().remove_callback(id); }

  /// `co_await future.async_wait()`: what `co_await future` does, as an awaitable<T>: the value,
  /// or the exception (CancelledError if cancelled).
  [[nodiscard]] boost::asio::awaitable<T> async_wait() const {
    return Future(core_)(boost::asio::use_awaitable);
  }

  using completion_signature = typename detail::result_signature<T>::type;
  /// A handle is cheap to copy: `co_await task` keeps a copy for the await (asio_await_fix.hpp).
  using awaited_by_copy = void;

  template <boost::asio::completion_token_for<completion_signature> Token>
  auto operator()(Token&& token) const {
    return boost::asio::async_initiate<Token, completion_signature>(
        [](auto handler, std::shared_ptr<Core> core) {
          detail::await_core<T>(std::move(core), std::move(handler));
        },
        token, core_);
  }

  friend bool operator==(const Future& a, const Future& b) noexcept { return a.core_ == b.core_; }

 private:
  explicit Future(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  Core& core() const {
    core_->require_loop();
    return *core_;
  }
  std::shared_ptr<Core> core_;
};

}  // namespace loopvisor
