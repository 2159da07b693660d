// Template bodies of Loop: task creation and cross-thread submission with futures.
#pragma once

#include <exception>
#include <type_traits>

namespace loopvisor {

namespace detail {

/// Links a ThreadFuture to the task that will complete it, for cancel() from any thread:
/// the task may not exist yet (its submission still queued) when the future is cancelled.
class TaskLink {
 public:
  void set(const std::shared_ptr<TaskBase>& task) {
    bool cancel_now = false;
    {
      lock_guard g(mu_);
      task_ = task;
      cancel_now = cancelled_;
    }
    if (cancel_now) task->cancel();
  }
  void cancel() {
    std::shared_ptr<TaskBase> task;
    {
      lock_guard g(mu_);
      cancelled_ = true;
      task = task_.lock();
    }
    if (task) task->cancel();
  }

 private:
  mutex mu_;
  std::weak_ptr<TaskBase> task_;
  bool cancelled_ = false;
};

/// Completes `future` from the ended task `task` (runs as the task's end hook, on its loop). The
/// task must be one no handle reads (its error moves into the future).
template <class T>
void complete_from_task(FutureState<T>& future, TaskState<T>& task) {
  if (task.status() == TaskStatus::cancelled && !task.abandoned()) {
    task.retrieve_exception();
    future.cancel();
    return;
  }
  if (auto e = task.take_exception()) {
    future.set_exception(std::move(e));
    return;
  }
  try {
    if constexpr (std::is_void_v<T>) {
      future.set_value();
    } else {
      future.set_value(task.read_value());
    }
  } catch (...) {
    future.set_exception(std::current_exception());
  }
}

}  // namespace detail

template <class T>
Task<T> Loop::create_task(boost::asio::awaitable<T> coro, std::string name,
                          loopvisor::source_location where) {
  require_on_loop("create_task");
  auto st = std::make_shared<detail::TaskState<T>>(*this, std::move(name), where);
  auto entry = detail::task_entry<T>(detail::TaskGuard<T>(st), std::move(coro));
  spawn(*st, std::move(entry));
  return Task<T>(std::move(st));
}

template <class T>
ThreadFuture<T> Loop::run_coroutine_threadsafe(boost::asio::awaitable<T> coro, std::string name,
                                               loopvisor::source_location where) {
  auto future = detail::make_future_state<T>();
  future->set_producer(shared_);
  auto link = std::make_shared<detail::TaskLink>();
  future->set_cancel_hook([link] { link->cancel(); });
  call_soon_threadsafe_erased(
      [this, future, link, coro = std::move(coro), name = std::move(name), where]() mutable {
        if (future->status() != detail::FutureStateBase::Status::pending) return;  // cancelled while queued
        Task<T> task = create_task(std::move(coro), std::move(name), where);
        auto* raw = detail::state_of(task).get();
        // The hook lets go of the future as soon as it is complete: this loop holding it longer
        // made it the last owner of an exception its reader had finished with.
        raw->add_hook([future = std::move(future), raw]() mutable {
          const auto completing = std::move(future);
          detail::complete_from_task(*completing, *raw);
        });
        link->set(detail::state_of(task));
      },
      where);
  return ThreadFuture<T>(std::move(future));
}

template <class F>
auto Loop::submit(F&& fn, loopvisor::source_location where) {
  using D = std::decay_t<F>;
  using R = std::invoke_result_t<D&>;
  if constexpr (detail::is_awaitable<R>::value) {
    return run_coroutine_threadsafe(std::forward<F>(fn), {}, where);
  } else {
    auto future = detail::make_future_state<R>();
    future->set_producer(shared_);
    call_soon_threadsafe_erased(
        [future, f = D(std::forward<F>(fn))]() mutable { detail::settle_with(*future, f); }, where);
    return ThreadFuture<R>(std::move(future));
  }
}

template <detail::coroutine_function F>
auto Loop::run_coroutine_threadsafe(F&& fn, std::string name, loopvisor::source_location where) {
  using D = std::decay_t<F>;
  using T = typename detail::is_awaitable<std::invoke_result_t<D&>>::value_type;
  // The callable is a parameter of this coroutine, so it lives in the coroutine's frame and its
  // captures outlive every await of the coroutine it returns.
  auto body = [](D f) -> boost::asio::awaitable<T> { co_return co_await f(); };
  return run_coroutine_threadsafe<T>(body(D(std::forward<F>(fn))), std::move(name), where);
}

template <class T>
T Loop::run_until_complete(boost::asio::awaitable<T> coro) {
  if (detail::LoopShared::current() != nullptr) {
    throw WrongThreadError(
        "run_until_complete: this thread already runs a loop; co_await the coroutine instead");
  }
  auto future = run_coroutine_threadsafe(std::move(coro));
  // Runs on this loop when the task ends (the future's producer): return from run_forever.
  future.add_done_callback([this](ThreadFuture<T>) { stop(); });
  run_forever();
  if (!future.done()) {
    throw InvalidStateError("run_until_complete: the loop stopped before the coroutine completed");
  }
  return future.get();
}

template <class T>
ThreadFuture<T> run_coroutine_threadsafe(boost::asio::awaitable<T> coro, Loop& loop,
                                         loopvisor::source_location where) {
  return loop.run_coroutine_threadsafe(std::move(coro), {}, where);
}

template <detail::coroutine_function F>
auto run_coroutine_threadsafe(Loop& loop, F&& fn, loopvisor::source_location where) {
  return loop.run_coroutine_threadsafe(std::forward<F>(fn), {}, where);
}

template <class T>
Task<T> create_task(boost::asio::awaitable<T> coro, std::string name, loopvisor::source_location where) {
  return Loop::current().create_task(std::move(coro), std::move(name), where);
}

}  // namespace loopvisor
