// TaskExecutor: the executor a task's coroutine runs on; it marks which task is executing.
#pragma once

#include <boost/asio/execution.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <chrono>
#include <cstdint>
#include <utility>

#include "loopvisor/detail/loop_shared.hpp"

namespace loopvisor::detail {

/// Id of the task whose code this thread is running (0: none). Set around every handler
/// a TaskExecutor runs, so it is right across every suspension point and inside plain
/// functions the task calls: asyncio's current_task().
std::uint64_t current_task_id() noexcept;

/// Marks the task running on this thread for the scope, and (outermost scope only) times the
/// step for the loop's busy time and slow-callback detection, with the same two clock reads.
class TaskScope {
 public:
  explicit TaskScope(std::uint64_t id) noexcept;
  ~TaskScope();
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  std::uint64_t previous_;
  BusyScope busy_;
  std::chrono::nanoseconds start_{};
};

/// Wraps the loop's io_context executor and carries a task id. Every property query,
/// require and prefer is forwarded to the inner executor; `execute` runs the function inside
/// a TaskScope. Coroutines the task co_awaits inherit it, so they count as the task too.
template <class Inner>
class TaskExecutor {
 public:
  TaskExecutor(Inner inner, std::uint64_t task_id) noexcept : inner_(std::move(inner)), task_id_(task_id) {}

  template <class Property>
  auto query(const Property& p) const noexcept(noexcept(boost::asio::query(std::declval<const Inner&>(), p)))
      -> decltype(boost::asio::query(std::declval<const Inner&>(), p)) {
    return boost::asio::query(inner_, p);
  }

  template <class Property>
  auto require(const Property& p) const
      -> TaskExecutor<std::decay_t<decltype(boost::asio::require(std::declval<const Inner&>(), p))>> {
    return {boost::asio::require(inner_, p), task_id_};
  }

  template <class Property>
  auto prefer(const Property& p) const
      -> TaskExecutor<std::decay_t<decltype(boost::asio::prefer(std::declval<const Inner&>(), p))>> {
    return {boost::asio::prefer(inner_, p), task_id_};
  }

  template <class F>
  void execute(F&& f) const {
    inner_.execute([id = task_id_, fn = std::forward<F>(f)]() mutable {
      TaskScope scope(id);
      std::move(fn)();
    });
  }

  friend bool operator==(const TaskExecutor& a, const TaskExecutor& b) noexcept {
    return a.task_id_ == b.task_id_ && a.inner_ == b.inner_;
  }
  friend bool operator!=(const TaskExecutor& a, const TaskExecutor& b) noexcept { return !(a == b); }

  const Inner& inner() const noexcept { return inner_; }
  std::uint64_t task_id() const noexcept { return task_id_; }

 private:
  template <class>
  friend class TaskExecutor;

  Inner inner_;
  std::uint64_t task_id_;
};

}  // namespace loopvisor::detail
