// as_completed: take tasks' results in the order they finish (asyncio.as_completed).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <vector>

#include "loopvisor/detail/as_task.hpp"
#include "loopvisor/detail/completion_watch.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/task.hpp"
#include "loopvisor/wait.hpp"

namespace loopvisor {

/// The iterator asyncio.as_completed returns, as an object:
///
///     auto it = loopvisor::as_completed(tasks, 5s);
///     while (!it.empty()) use(co_await it.next());
///
/// `next()` yields the result of the next task to finish (rethrowing its exception,
/// CancelledError if it was cancelled). Past the overall timeout, `next()` raises TimeoutError
/// for every task still running; they are not cancelled. A task given twice counts once.
///
/// Thread safety: on the tasks' loop only.
template <class T>
class AsCompleted {
 public:
  AsCompleted(std::vector<Task<T>> tasks, std::optional<std::chrono::steady_clock::duration> timeout)
      : tasks_(detail::distinct(std::move(tasks))) {
    std::vector<std::shared_ptr<detail::TaskBase>> children;
    for (auto& t : tasks_) children.push_back(detail::state_of(t));
    watch_ = detail::CompletionWatch::watch(children);
    if (timeout) deadline_ = std::chrono::steady_clock::now() + *timeout;
  }

  /// Tasks whose results have not been taken yet.
  std::size_t remaining() const noexcept { return tasks_.size() - taken_; }
  bool empty() const noexcept { return remaining() == 0; }

  [[nodiscard]] boost::asio::awaitable<typename detail::TaskState<T>::Stored> next() {
    if (empty()) throw InvalidStateError("as_completed: every result was already taken");
    while (watch_->seen == watch_->finished.size()) {
      std::optional<std::chrono::steady_clock::duration> left;
      if (deadline_) {
        left = *deadline_ - std::chrono::steady_clock::now();
        if (*left <= std::chrono::steady_clock::duration::zero()) {
          ++taken_;
          throw TimeoutError("as_completed: the timeout passed with " + std::to_string(remaining() + 1) +
                             " task(s) still running");
        }
      }
      co_await detail::await_condition(
          watch_, [](const detail::CompletionWatch& w) { return w.seen != w.finished.size(); }, left);
    }
    Task<T>& task = tasks_[watch_->finished[watch_->seen++]];
    ++taken_;
    if (auto e = detail::state_of(task)->retrieve_exception()) std::rethrow_exception(e);
    co_return detail::state_of(task)->read_value();
  }

 private:
  std::vector<Task<T>> tasks_;
  std::shared_ptr<detail::CompletionWatch> watch_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::size_t taken_ = 0;
};

template <class T>
[[nodiscard]] AsCompleted<T> as_completed(
    std::vector<Task<T>> tasks, std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt) {
  return AsCompleted<T>(std::move(tasks), timeout);
}

/// as_completed over awaitables: each becomes a task on the current loop at the call, in order.
template <class T>
[[nodiscard]] AsCompleted<T> as_completed(
    std::vector<boost::asio::awaitable<T>> coros,
    std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt,
    loopvisor::source_location where = loopvisor::source_location::current()) {
  return AsCompleted<T>(detail::as_tasks(std::move(coros), where), timeout);
}

}  // namespace loopvisor
