// Supervisor: owns N loops on dedicated threads, places work on them, shuts them down gracefully.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loopvisor/detail/lifeline.hpp"
#include "loopvisor/detail/sharded_base.hpp"
#include "loopvisor/exception_context.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/placement.hpp"
#include "loopvisor/shutdown_report.hpp"
#include "loopvisor/watchdog.hpp"

namespace loopvisor {

template <class S>
class Sharded;

struct SupervisorOptions {
  /// Number of loops; 0 means one per CPU the process may use (process_cpu_count(): the
  /// affinity mask, capped by the cgroup's CPU quota).
  std::size_t loops = 0;
  std::size_t submit_queue_capacity = 16384;
  std::size_t drain_batch = 256;
  Placement placement = Placement::round_robin;
  /// CPU of loop i is cpu_affinity[i % size]; empty means no pinning.
  std::vector<int> cpu_affinity{};
  /// Loop i's thread is named prefix + i (at most 15 characters in all, as Linux allows).
  std::string thread_name_prefix = "lv-loop-";
  /// Grace used by the destructor when shutdown() was not called.
  std::chrono::milliseconds shutdown_grace = std::chrono::seconds(5);
  /// How long cancelled tasks get to unwind before they are abandoned.
  std::chrono::milliseconds cancel_timeout = std::chrono::seconds(5);
  /// Handler for every loop; empty means log_exception.
  ExceptionHandler exception_handler{};
  /// Lag probes and stall detection (see Watchdog); an interval of zero turns it off.
  WatchdogOptions watchdog{};
  /// See LoopOptions::slow_callback_threshold.
  std::chrono::milliseconds slow_callback_threshold = std::chrono::milliseconds(100);
  /// See LoopOptions::spin_before_park (each loop; zero, the default, turns it off).
  std::chrono::microseconds spin_before_park{0};
  /// The blocking pool shared by the loops (to_thread): threads and pending-job bound.
  std::size_t blocking_threads = 8;
  std::size_t blocking_max_pending = 1024;
  /// How long shutdown waits for the blocking pool's accepted jobs (nullopt: as long as they
  /// take). Past it, shutdown returns and reports the jobs left running in the background.
  /// asyncio.run's default is 300 s.
  std::optional<std::chrono::milliseconds> blocking_join_timeout = std::chrono::seconds(300);
  /// Called on each loop's own thread before the loop runs anything: per-thread setup such as
  /// a tracing context, an allocator arena or thread-locals (Tokio's on_thread_start). Hooks of
  /// different loops run concurrently. If one throws, the constructor stops every loop and
  /// rethrows the first such exception.
  std::function<void(Loop&)> on_loop_thread_start{};
  /// Called on each loop's own thread after its loop has finished for good (in shutdown, or
  /// when a failed start is unwound), just before the thread ends; only on threads whose start
  /// hook returned. A throw is logged, and the thread ends as usual.
  std::function<void(Loop&)> on_loop_thread_stop{};
};

/// Owns N loops, each run by its own boost::thread (named, optionally pinned), started by the
/// constructor, which returns once every loop runs.
///
/// Thread safety: distinct objects safe. Shared objects: every member is safe from any
/// thread, except `shutdown`, `all_tasks` and the destructor, which block and so throw
/// WrongThreadError on one of this supervisor's loop threads (the destructor terminates).
class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options = {});
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  std::size_t size() const noexcept { return loops_.size(); }
  /// Loop `index`; throws std::out_of_range naming the valid range.
  Loop& loop(std::size_t index) const;
  /// The loop the placement policy picks for the next piece of work.
  Loop& pick() noexcept;
  // True (and counted as a rejection) once shutdown began.
  bool refuse_if_closing() const noexcept;
  /// The loop for `key`: the same key always maps to the same loop (affinity).
  Loop& loop_for_key(std::string_view key) const noexcept;
  Loop& loop_for_key(std::uint64_t key) const noexcept;
  /// True if the calling thread runs one of this supervisor's loops.
  bool owns_current_thread() const noexcept;

  /// As Loop::call_soon_threadsafe on the picked loop.
  template <class F>
  Handle call_soon_threadsafe(F&& fn,
                              loopvisor::source_location where = loopvisor::source_location::current()) {
    check_open();
    return pick().call_soon_threadsafe(std::forward<F>(fn), where);
  }
  /// As Loop::try_call_soon_threadsafe on the picked loop: `closed` once shutdown began.
  template <class F>
  [[nodiscard]] SubmitStatus try_call_soon_threadsafe(
      F&& fn, loopvisor::source_location where = loopvisor::source_location::current()) {
    if (refuse_if_closing()) return SubmitStatus::closed;
    return pick().try_call_soon_threadsafe(std::forward<F>(fn), where);
  }
  /// As Loop::run_coroutine_threadsafe on the picked loop.
  template <class T>
  [[nodiscard]] ThreadFuture<T> run_coroutine_threadsafe(
      boost::asio::awaitable<T> coro, std::string name = {},
      loopvisor::source_location where = loopvisor::source_location::current()) {
    check_open();
    return pick().run_coroutine_threadsafe(std::move(coro), std::move(name), where);
  }
  /// As Loop::run_coroutine_threadsafe(fn) on the picked loop: the callable is kept alive for
  /// the coroutine's life.
  template <detail::coroutine_function F>
  [[nodiscard]] auto run_coroutine_threadsafe(
      F&& fn, std::string name = {},
      loopvisor::source_location where = loopvisor::source_location::current()) {
    check_open();
    return pick().run_coroutine_threadsafe(std::forward<F>(fn), std::move(name), where);
  }
  /// As Loop::submit on the picked loop.
  template <class F>
  [[nodiscard]] auto submit(F&& fn,
                            loopvisor::source_location where = loopvisor::source_location::current()) {
    check_open();
    return pick().submit(std::forward<F>(fn), where);
  }

  /// Graceful shutdown of every loop (see Loop::close): refuse new submissions, drain and let
  /// tasks finish for up to `grace`, cancel the rest and wait up to cancel_timeout for them to
  /// unwind, stop sharded services in reverse order, stop and join every thread. Idempotent:
  /// later or concurrent calls wait for the first and return its report.
  ShutdownReport shutdown(std::chrono::milliseconds grace) {
    return shutdown(grace, options_.blocking_join_timeout);
  }
  ShutdownReport shutdown() { return shutdown(options_.shutdown_grace); }
  /// As shutdown(grace), with a bound for joining the blocking pool (nullopt: none); the
  /// report's blocking_jobs_unfinished counts the jobs still running past it.
  ShutdownReport shutdown(std::chrono::milliseconds grace,
                          std::optional<std::chrono::milliseconds> blocking_join_timeout);
  bool is_closed() const noexcept;
  /// What shutdown() returned, with `submissions_rejected` brought up to date: every
  /// RuntimeClosed a submission to this supervisor or its loops raised since shutdown began,
  /// including those after it returned (producers may still be trying). All zero before
  /// shutdown. Any thread.
  ShutdownReport report() const;
  /// How long ago the watchdog last finished a round of probes (Watchdog::silence): nullopt
  /// when it is off or, after shutdown, stopped. Longer than the stall threshold means the
  /// watchdog itself is not running, so no loop's health is known. Any thread.
  std::optional<std::chrono::steady_clock::duration> watchdog_silence() const noexcept;

  /// Live changes (a configuration reload), from any thread; they take effect at each loop's
  /// next callback and the watchdog's next round. Negative values throw std::invalid_argument.
  void set_slow_callback_threshold(std::chrono::milliseconds threshold);
  void set_stall_threshold(std::chrono::milliseconds threshold);
  /// The watchdog's stall threshold now (options().watchdog has the one it started with).
  std::chrono::milliseconds stall_threshold() const noexcept { return watchdog_->stall_threshold(); }

  /// Every live task on every loop (blocks while each loop answers; bounded by `timeout`).
  std::vector<TaskInfo> all_tasks(std::chrono::milliseconds timeout = std::chrono::seconds(2));
  std::vector<LoopStats> stats() const;
  const SupervisorOptions& options() const noexcept { return options_; }
  /// The pool behind to_thread on every loop; shut down after the loops by shutdown().
  BlockingPool& blocking_pool() const noexcept { return *blocking_; }

 private:
  friend class RuntimeCollector;
  template <class S>
  friend class Sharded;
  // A Sharded<S> registers itself to be stopped, in reverse order, at shutdown.
  void add_service(detail::ShardedBase* service);
  void remove_service(detail::ShardedBase* service) noexcept;
  struct Threads;
  void check_open() const;

  SupervisorOptions options_;
  std::shared_ptr<BlockingPool> blocking_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::unique_ptr<Threads> threads_;
  std::unique_ptr<Watchdog> watchdog_;
  detail::atomic<std::size_t> next_{0};
  detail::atomic<bool> closing_{false};
  mutable detail::atomic<std::uint64_t> rejected_closed_{0};  // refused by check_open()
  mutable detail::mutex services_mu_;
  std::vector<detail::ShardedBase*> services_;
  mutable detail::mutex shutdown_mu_;
  bool shut_down_ = false;  // guarded by shutdown_mu_
  ShutdownReport report_;
  // Observers that must not keep this alive (RuntimeCollector) hold it; cut first in the
  // destructor.
  std::shared_ptr<detail::Lifeline<Supervisor>> lifeline_ =
      std::make_shared<detail::Lifeline<Supervisor>>(this);
};

/// asyncio.run_coroutine_threadsafe with a supervisor: placed on the loop its policy picks.
template <class T>
[[nodiscard]] ThreadFuture<T> run_coroutine_threadsafe(
    boost::asio::awaitable<T> coro, Supervisor& supervisor,
    loopvisor::source_location where = loopvisor::source_location::current()) {
  return supervisor.run_coroutine_threadsafe(std::move(coro), {}, where);
}

/// The callable form on a supervisor: run_coroutine_threadsafe(supervisor, [captures]() -> awaitable<T>
/// {...}).
template <detail::coroutine_function F>
[[nodiscard]] auto run_coroutine_threadsafe(
    Supervisor& supervisor, F&& fn,
    loopvisor::source_location where = loopvisor::source_location::current()) {
  return supervisor.run_coroutine_threadsafe(std::forward<F>(fn), {}, where);
}

}  // namespace loopvisor
