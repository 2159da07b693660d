// gather: run tasks concurrently and collect their results in argument order (asyncio.gather).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "loopvisor/detail/as_task.hpp"
#include "loopvisor/detail/completion_watch.hpp"
#include "loopvisor/task.hpp"

namespace loopvisor {

/// Tag for gather's return_exceptions=True.
struct ReturnExceptions {};
inline constexpr ReturnExceptions return_exceptions{};

/// One child's end under return_exceptions: a value or an exception (CancelledError if the
/// child was cancelled).
template <class T>
struct Outcome {
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  std::optional<Stored> value;
  std::exception_ptr error;

  bool ok() const noexcept { return error == nullptr; }
  /// The value, or rethrows the error.
  Stored get() const {
    if (error) std::rethrow_exception(error);
    return *value;
  }
};

namespace detail {

/// Waits for every child. With `fail_fast`, the first child to fail (in time, not in argument
/// order) ends the wait with its exception while the others keep running. If the waiting
/// coroutine is cancelled, every child not yet ended is cancelled and CancelledError raised.
boost::asio::awaitable<void> await_children(std::vector<std::shared_ptr<TaskBase>> children, bool fail_fast);

template <class T>
typename detail::TaskState<T>::Stored take_result(Task<T>& task) {
  if (auto e = detail::state_of(task)->retrieve_exception()) std::rethrow_exception(e);
  return detail::state_of(task)->read_value();
}

template <class T>
Outcome<T> take_outcome(Task<T>& task) {
  Outcome<T> out;
  out.error = detail::state_of(task)->retrieve_exception();
  if (!out.error) out.value.emplace(detail::state_of(task)->read_value());
  return out;
}

template <class... Ts>
std::vector<std::shared_ptr<TaskBase>> bases(const Task<Ts>&... tasks) {
  return {detail::state_of(tasks)...};
}

}  // namespace detail

/// `co_await gather(a, b, c)`: the children's results as a tuple, in argument order (void
/// children give std::monostate). The first child exception propagates and the other children
/// keep running (asyncio's rule); a child cancelled from outside makes it raise CancelledError.
/// Cancelling the gather cancels every child that has not ended.
///
/// Thread safety: on the children's loop, from a coroutine.
template <class... Ts>
[[nodiscard]] boost::asio::awaitable<std::tuple<typename detail::TaskState<Ts>::Stored...>> gather(
    Task<Ts>... tasks) {
  co_await detail::await_children(detail::bases(tasks...), true);
  co_return std::tuple<typename detail::TaskState<Ts>::Stored...>{detail::take_result(tasks)...};
}

/// gather with return_exceptions: waits for every child; each result or exception in order.
template <class... Ts>
[[nodiscard]] boost::asio::awaitable<std::tuple<Outcome<Ts>...>> gather(ReturnExceptions, Task<Ts>... tasks) {
  co_await detail::await_children(detail::bases(tasks...), false);
  co_return std::tuple<Outcome<Ts>...>{detail::take_outcome(tasks)...};
}

/// gather over a vector of tasks of one type.
template <class T>
[[nodiscard]] boost::asio::awaitable<std::vector<typename detail::TaskState<T>::Stored>> gather(
    std::vector<Task<T>> tasks) {
  std::vector<std::shared_ptr<detail::TaskBase>> children;
  for (auto& t : tasks) children.push_back(detail::state_of(t));
  co_await detail::await_children(std::move(children), true);
  std::vector<typename detail::TaskState<T>::Stored> out;
  out.reserve(tasks.size());
  for (auto& t : tasks) out.push_back(detail::take_result(t));
  co_return out;
}

template <class T>
[[nodiscard]] boost::asio::awaitable<std::vector<Outcome<T>>> gather(ReturnExceptions,
                                                                     std::vector<Task<T>> tasks) {
  std::vector<std::shared_ptr<detail::TaskBase>> children;
  for (auto& t : tasks) children.push_back(detail::state_of(t));
  co_await detail::await_children(std::move(children), false);
  std::vector<Outcome<T>> out;
  out.reserve(tasks.size());
  for (auto& t : tasks) out.push_back(detail::take_outcome(t));
  co_return out;
}

/// gather of awaitables, or of tasks and awaitables mixed: each awaitable becomes a task on the
/// current loop at the call, in argument order (asyncio wraps coroutines with ensure_future), then
/// as gather of tasks. Cancelling the gather cancels those tasks too.
template <class... As>
requires(detail::task_or_awaitable<As>&&...) && (detail::awaitable_argument<As> || ...)
                                                    [[nodiscard]] auto gather(As&&... items) {
  const auto where = loopvisor::source_location::current();
  // Braced initialisation runs left to right: the tasks are created in argument order.
  std::tuple<detail::task_of_t<As>...> tasks{detail::as_task(std::forward<As>(items), where)...};
  return std::apply([](auto&&... t) { return gather(std::move(t)...); }, std::move(tasks));
}

template <class... As>
requires(detail::task_or_awaitable<As>&&...) &&
    (detail::awaitable_argument<As> || ...) [[nodiscard]] auto gather(ReturnExceptions, As&&... items) {
  const auto where = loopvisor::source_location::current();
  std::tuple<detail::task_of_t<As>...> tasks{detail::as_task(std::forward<As>(items), where)...};
  return std::apply([](auto&&... t) { return gather(return_exceptions, std::move(t)...); }, std::move(tasks));
}

/// gather over a vector of awaitables: each becomes a task on the current loop, in order.
template <class T>
[[nodiscard]] boost::asio::awaitable<std::vector<typename detail::TaskState<T>::Stored>> gather(
    std::vector<boost::asio::awaitable<T>> coros,
    loopvisor::source_location where = loopvisor::source_location::current()) {
  return gather(detail::as_tasks(std::move(coros), where));
}

template <class T>
[[nodiscard]] boost::asio::awaitable<std::vector<Outcome<T>>> gather(
    ReturnExceptions, std::vector<boost::asio::awaitable<T>> coros,
    loopvisor::source_location where = loopvisor::source_location::current()) {
  return gather(return_exceptions, detail::as_tasks(std::move(coros), where));
}

}  // namespace loopvisor
