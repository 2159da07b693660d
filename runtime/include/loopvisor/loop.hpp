// Loop: one io_context on one thread, with asyncio's scheduling and thread-safe submission.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>
#include "loopvisor/detail/origin.hpp"
#include "loopvisor/source_location.hpp"
#include "loopvisor/submit_status.hpp"

#include "loopvisor/detail/callback.hpp"
#include "loopvisor/detail/loop_health.hpp"
#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/detail/task_driver.hpp"
#include "loopvisor/exception_context.hpp"
#include "loopvisor/handle.hpp"
#include "loopvisor/shutdown_report.hpp"
#include "loopvisor/task.hpp"
#include "loopvisor/thread_future.hpp"

namespace loopvisor {

class Supervisor;
class BlockingPool;
namespace detail {
class TaskScope;
class TaskBase;
std::shared_ptr<TaskBase> current_task_state();

template <class R>
struct is_awaitable : std::false_type {};
template <class T, class E>
struct is_awaitable<boost::asio::awaitable<T, E>> : std::true_type {
  using value_type = T;
};
/// A callable that returns a coroutine: what the callable overloads of
/// run_coroutine_threadsafe take (and keep alive for the coroutine's whole life).
template <class F>
concept coroutine_function = std::invocable < std::decay_t<F>
& > &&is_awaitable<std::invoke_result_t<std::decay_t<F>&>>::value;
}  // namespace detail

struct LoopOptions {
  /// Thread and metrics name; empty means "loop-<index>".
  std::string name{};
  /// Position in its supervisor (the metrics label); 0 for a standalone loop.
  std::size_t index = 0;
  /// Capacity of the cross-thread submission queue, rounded up to a power of two. When it is
  /// full, call_soon_threadsafe and run_coroutine_threadsafe throw SubmissionRejected at once.
  /// A callback runs where it lies in the queue and frees its place when it returns, so the
  /// capacity counts the one running too.
  std::size_t submit_queue_capacity = 16384;
  /// Cross-thread callbacks run per turn before timers and I/O get their chance.
  std::size_t drain_batch = 256;
  /// Called for each unhandled failure on this loop; empty means log_exception.
  ExceptionHandler exception_handler{};
  /// A callback or task step holding the loop longer than this is logged and counted
  /// (LoopStats::slow_callbacks); zero turns the check off.
  std::chrono::milliseconds slow_callback_threshold = std::chrono::milliseconds(100);
  /// Threads of a stand-alone loop's own blocking pool (created on first to_thread).
  std::size_t blocking_threads = 4;
  /// Spin-before-park: with nothing to run, the loop polls this long for new submissions
  /// before it sleeps in the kernel, and so does a thread blocked in `get()`/`wait()` on one
  /// of the loop's ThreadFutures. A submission that arrives meanwhile is seen within about
  /// a microsecond instead of after a kernel wake-up (tens of microseconds). Costs a core
  /// for up to this long after each burst of work; timers and I/O wait up to this long while
  /// the loop spins. Zero (the default) turns it off. At most 1 s. Not applied when the process
  /// may use only one CPU (process_cpu_count() when the Loop is made): a spinning thread would
  /// take the time slice of the very thread it waits for (measured: 13 µs round trips became
  /// 111 µs).
  std::chrono::microseconds spin_before_park{0};
};

/// Counters of one loop, read from any thread (each is a relaxed snapshot).
struct LoopStats {
  std::size_t index = 0;
  std::string name;
  bool running = false;
  bool closed = false;
  std::size_t queue_depth = 0;
  std::size_t queue_capacity = 0;
  std::uint64_t callbacks_run = 0;
  std::uint64_t submissions_accepted = 0;
  std::uint64_t submissions_rejected = 0;  ///< queue full or closed
  std::uint64_t tasks_started = 0;
  std::uint64_t tasks_active = 0;
  std::uint64_t tasks_done_ok = 0;
  std::uint64_t tasks_done_error = 0;
  std::uint64_t tasks_cancelled = 0;
  std::uint64_t unhandled_exceptions = 0;
  std::uint64_t slow_callbacks = 0;
  std::chrono::nanoseconds busy{0};  ///< wall time spent running callbacks and task steps
  double busy_ratio = 0;             ///< share of the last watchdog interval spent busy (0..1)
  std::chrono::nanoseconds lag{0};   ///< last scheduling lag the watchdog measured
  bool stalled = false;              ///< the watchdog's verdict
  std::uint64_t stalls = 0;          ///< times the watchdog found the loop stalled (each stall once)
  std::uint64_t lag_probes = 0;      ///< watchdog probes the loop has answered
};

/// An event loop: one boost::asio::io_context run by one thread (asyncio's event loop).
///
/// Code running on the loop is single-threaded: callbacks, timers and task steps never run
/// concurrently with each other, so state owned by the loop needs no locks.
///
/// A loop is run either by a Supervisor on a thread it owns, or stand-alone: created by the
/// user, run with `run_forever()` on a thread the user owns, stopped with `stop()` from any
/// thread, and finally `close()`d.
///
/// Thread safety: distinct objects safe. Shared objects:
/// - any thread: `call_soon_threadsafe`, `run_coroutine_threadsafe`, `submit`, `stop`,
///   `stats`, `snapshot_tasks`, `is_running`, `is_closed`, `index`, `name`, `is_current`, `time`;
/// - the loop's thread only: `call_soon`, `call_later`, `call_at`, `create_task`, `all_tasks`
///   (WrongThreadError elsewhere);
/// - a non-loop thread: `run_forever` (one at a time), `close`.
/// Submitted callables are moved into the loop's queue on the caller's thread, and run and
/// destroyed on the loop's thread (also when cancelled, or drained at shutdown).
class Loop;

namespace detail {
/// The state a loop shares with its tasks, futures and channels (the runtime's own access).
const std::shared_ptr<LoopShared>& loop_shared(const Loop& loop) noexcept;
/// Lag and stall state measured by a Watchdog (zero and false without one). Any thread.
const std::shared_ptr<LoopHealth>& loop_health(const Loop& loop) noexcept;
}  // namespace detail

class Loop {
 public:
  using clock = std::chrono::steady_clock;
  using executor_type = boost::asio::io_context::executor_type;

  explicit Loop(LoopOptions options = {});
  /// Closes the loop (default grace) if it was not closed. Must not run on this loop.
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  /// The loop whose thread calls this. Throws WrongThreadError from a thread running no loop.
  static Loop& current();
  static Loop* current_or_null() noexcept;
  bool is_current() const noexcept { return shared_->is_current(); }

  std::size_t index() const noexcept { return shared_->index(); }
  const std::string& name() const noexcept { return shared_->name(); }
  /// The spin budget in force: LoopOptions::spin_before_park, or zero when the process may use
  /// only one CPU (see there).
  std::chrono::microseconds spin_before_park() const noexcept;
  boost::asio::io_context& context() noexcept;
  executor_type get_executor() noexcept;
  clock::time_point time() const noexcept { return clock::now(); }

  /// Runs the loop on the calling thread until `stop()`. Throws InvalidStateError if the loop
  /// is already running or closed, WrongThreadError if this thread already runs a loop.
  void run_forever();
  /// asyncio's loop.run_until_complete: runs the loop on the calling thread until `coro`
  /// (run as a task) has ended, then returns its result or rethrows its exception
  /// (CancelledError if it was cancelled). If the loop is stopped first, the task stays on the
  /// loop and this raises InvalidStateError ("the loop stopped before the coroutine
  /// completed"), as asyncio raises RuntimeError. Same thread rules as run_forever.
  template <class T>
  T run_until_complete(boost::asio::awaitable<T> coro);
  /// Makes `run_forever` return after the handler running now. Queued work stays queued and
  /// runs on the next `run_forever` or during `close`. Any thread.
  void stop() noexcept;
  bool is_running() const noexcept;
  bool is_closed() const noexcept;

  /// Graceful close: refuse new submissions; run what was accepted and let tasks finish for
  /// up to `grace`; cancel the rest and let them unwind for up to `cancel_timeout`; stop.
  /// Works whether the loop is idle (it is driven on the calling thread) or running on
  /// another thread (that thread's run_forever returns). Idempotent: later calls return the
  /// first report. Throws WrongThreadError on the loop's own thread.
  ShutdownReport close(std::chrono::milliseconds grace = std::chrono::seconds(5),
                       std::chrono::milliseconds cancel_timeout = std::chrono::seconds(5));

  /// Schedules `fn()` to run on the loop after the callbacks already scheduled (FIFO).
  template <class F>
  Handle call_soon(F&& fn) {
    return call_soon_erased(detail::Callback(std::forward<F>(fn)));
  }
  /// Schedules `fn()` after `delay`. Timers run in deadline order, FIFO for equal deadlines.
  template <class F>
  Handle call_later(clock::duration delay, F&& fn) {
    return call_at_erased(clock::now() + delay, detail::Callback(std::forward<F>(fn)));
  }
  template <class F>
  Handle call_at(clock::time_point when, F&& fn) {
    return call_at_erased(when, detail::Callback(std::forward<F>(fn)));
  }

  /// From any thread: enqueues `fn()` to run on the loop and wakes it. Never blocks. Throws
  /// SubmissionRejected if the queue is full and RuntimeClosed if the loop is closing; in
  /// both cases `fn` is not run and is destroyed on the caller's thread. `where` (the caller,
  /// by default) is named by those errors and by the report of an exception `fn` throws.
  template <class F>
  Handle call_soon_threadsafe(F&& fn,
                              loopvisor::source_location where = loopvisor::source_location::current()) {
    return call_soon_threadsafe_erased(detail::Callback(detail::reporting_origin(std::forward<F>(fn), where)),
                                       where);
  }

  /// From any thread: as call_soon_threadsafe, for callers that handle back-pressure
  /// themselves (retry, shed, go elsewhere): no exception and no Handle. Returns `accepted`,
  /// or `full` / `closed`, and then `fn` was not run and is destroyed on the caller's thread.
  /// Rejections are counted in the loop's statistics as the throwing form's are.
  template <class F>
  [[nodiscard]] SubmitStatus try_call_soon_threadsafe(
      F&& fn, loopvisor::source_location where = loopvisor::source_location::current()) {
    detail::Callback callback(detail::reporting_origin(std::forward<F>(fn), where));
    return try_call_soon_threadsafe_erased(callback);
  }

  /// From any thread: runs `fn()` on the loop and returns its result as a future. If `fn`
  /// returns an awaitable, it is run as a task and the future carries the task's result.
  /// `where` (the caller) is named in rejections and is the task's origin.
  template <class F>
  [[nodiscard]] auto submit(F&& fn, loopvisor::source_location where = loopvisor::source_location::current());

  /// From any thread: runs `coro` as a task on this loop (asyncio.run_coroutine_threadsafe).
  /// Cancelling the future cancels the task. Rejections as for call_soon_threadsafe.
  /// Prefer the callable overload below when the coroutine is a lambda with captures or
  /// reference parameters: this one cannot keep them alive.
  /// `where` (the caller) is the task's origin in diagnostics and /debug/tasks.
  template <class T>
  [[nodiscard]] ThreadFuture<T> run_coroutine_threadsafe(
      boost::asio::awaitable<T> coro, std::string name = {},
      loopvisor::source_location where = loopvisor::source_location::current());
  /// From any thread: `fn()` (a callable returning a coroutine, such as a lambda with
  /// captures) is called on this loop and run as a task; `fn` itself is kept alive until that
  /// coroutine ends, so its captures are safe to use across every await:
  ///
  ///     loop.run_coroutine_threadsafe([&state, n]() -> awaitable<int> { co_return co_await step(state, n);
  ///     });
  template <detail::coroutine_function F>
  [[nodiscard]] auto run_coroutine_threadsafe(
      F&& fn, std::string name = {},
      loopvisor::source_location where = loopvisor::source_location::current());

  /// On the loop: wraps `coro` in a task whose first step runs on a later turn.
  /// `where` records the caller (file:line) for diagnostics and introspection.
  template <class T>
  [[nodiscard]] Task<T> create_task(boost::asio::awaitable<T> coro, std::string name = {},
                                    loopvisor::source_location where = loopvisor::source_location::current());

  /// On the loop: every task that has not ended.
  std::vector<TaskInfo> all_tasks() const;
  /// Any thread: all_tasks() taken on the loop, delivered through a future. The request goes
  /// outside the bounded inbox (it is never rejected for capacity); a stalled loop answers
  /// only when it runs again, so wait with a timeout. RuntimeClosed once the loop is gone.
  [[nodiscard]] ThreadFuture<std::vector<TaskInfo>> snapshot_tasks() const;

  void set_exception_handler(ExceptionHandler handler);
  /// Reports `context` through the handler (filling in the loop fields). Any thread.
  void call_exception_handler(ExceptionContext context) noexcept;

  LoopStats stats() const noexcept;
  std::size_t submit_queue_capacity() const noexcept;
  /// Approximate number of queued cross-thread submissions (any thread, no allocation).
  std::size_t queue_depth() const noexcept;
  /// Queue depth plus active tasks: the load `Placement::least_loaded` compares.
  std::size_t load() const noexcept;

  /// The pool `to_thread` uses: the supervisor's, or (stand-alone) one the loop creates on
  /// first use with `LoopOptions::blocking_threads` threads and shuts down when it closes.
  /// Any thread.
  BlockingPool& blocking_pool();

 private:
  friend class Supervisor;
  friend class detail::TaskBase;
  friend const std::shared_ptr<detail::LoopShared>& detail::loop_shared(const Loop& loop) noexcept;
  friend const std::shared_ptr<detail::LoopHealth>& detail::loop_health(const Loop& loop) noexcept;
  friend AnyTask current_task();
  friend std::shared_ptr<detail::TaskBase> detail::current_task_state();
  friend class detail::TaskScope;
  struct Impl;

  Handle call_soon_erased(detail::Callback fn);
  Handle call_at_erased(clock::time_point when, detail::Callback fn);
  Handle call_soon_threadsafe_erased(detail::Callback fn, const loopvisor::source_location& where);
  SubmitStatus try_call_soon_threadsafe_erased(detail::Callback& fn);
  // Another thread's submission into the inbox; wakes the loop when accepted.
  SubmitStatus push_threadsafe(detail::Callback& fn, std::uint64_t& ticket);
  void spawn(detail::TaskBase& task, detail::TaskEntry entry);
  void require_on_loop(const char* api) const;
  void set_blocking_pool(std::shared_ptr<BlockingPool> pool);

  // Shutdown phases, shared by close() and Supervisor::shutdown().
  void close_submissions() noexcept;
  bool wait_quiescent(clock::time_point deadline);
  void cancel_all_tasks() noexcept;
  void finish();
  bool finishing() const noexcept;  // loop thread: finish() has stopped it for good
  ShutdownReport report() const;
  std::uint64_t rejected_closed() const noexcept;  // RuntimeClosed refusals so far

  std::shared_ptr<detail::LoopShared> shared_;
  std::shared_ptr<detail::LoopHealth> health_ = std::make_shared<detail::LoopHealth>();
  std::unique_ptr<Impl> impl_;
};

namespace detail {
inline const std::shared_ptr<LoopShared>& loop_shared(const Loop& loop) noexcept { return loop.shared_; }
inline const std::shared_ptr<LoopHealth>& loop_health(const Loop& loop) noexcept { return loop.health_; }
}  // namespace detail

/// asyncio.run_coroutine_threadsafe(coro, loop): the same as loop.run_coroutine_threadsafe(coro).
template <class T>
[[nodiscard]] ThreadFuture<T> run_coroutine_threadsafe(
    boost::asio::awaitable<T> coro, Loop& loop,
    loopvisor::source_location where = loopvisor::source_location::current());
/// run_coroutine_threadsafe(loop, [captures]() -> awaitable<T> {...}): the callable form, which
/// keeps the lambda (and so its captures) alive for the coroutine's life, as co_spawn does.
template <detail::coroutine_function F>
[[nodiscard]] auto run_coroutine_threadsafe(
    Loop& loop, F&& fn, loopvisor::source_location where = loopvisor::source_location::current());

}  // namespace loopvisor

#include "loopvisor/impl/loop.ipp"
