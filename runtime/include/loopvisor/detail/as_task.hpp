// as_task: what the combinators (gather, wait, as_completed) accept — a Task, or an awaitable
// they wrap in a task on the current loop, as asyncio wraps a coroutine with ensure_future.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <type_traits>
#include <utility>
#include <vector>

#include "loopvisor/sleep.hpp"
#include "loopvisor/source_location.hpp"
#include "loopvisor/task.hpp"

namespace loopvisor::detail {

/// The Task type an argument stands for: Task<T> for a Task<T> or an awaitable<T>.
template <class A>
struct task_of {};
template <class T>
struct task_of<Task<T>> {
  using type = Task<T>;
};
template <class T>
struct task_of<boost::asio::awaitable<T>> {
  using type = Task<T>;
};
template <>
struct task_of<Sleep> {
  using type = Task<void>;
};
template <class A>
using task_of_t = typename task_of<std::remove_cvref_t<A>>::type;

template <class A>
concept task_or_awaitable = requires {
  typename task_of_t<A>;
};

template <class A>
concept awaitable_argument = task_or_awaitable<A> && !std::is_same_v<std::remove_cvref_t<A>, task_of_t<A>>;

/// A task as given; an awaitable becomes a task on the current loop (default name, `where`
/// as its creation site).
template <class T>
Task<T> as_task(Task<T> task, const loopvisor::source_location&) {
  return task;
}
template <class T>
Task<T> as_task(boost::asio::awaitable<T> coro, const loopvisor::source_location& where) {
  return loopvisor::create_task(std::move(coro), {}, where);
}
inline Task<void> as_task(Sleep&& sleep, const loopvisor::source_location& where) {
  return loopvisor::create_task(std::move(sleep).as_awaitable(), {}, where);
}

/// The awaitables as tasks on the current loop, created (and so first run) in order.
template <class T>
std::vector<Task<T>> as_tasks(std::vector<boost::asio::awaitable<T>> coros,
                              const loopvisor::source_location& where) {
  std::vector<Task<T>> tasks;
  tasks.reserve(coros.size());
  for (auto& c : coros) tasks.push_back(loopvisor::create_task(std::move(c), {}, where));
  return tasks;
}

}  // namespace loopvisor::detail
