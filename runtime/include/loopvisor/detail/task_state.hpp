// TaskBase and TaskState<T>: the per-task state machine shared by Task handles and the loop.
#pragma once

#include <boost/asio/cancellation_signal.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>
#include "loopvisor/source_location.hpp"

#include "loopvisor/detail/callback.hpp"
#include "loopvisor/detail/done_callbacks.hpp"
#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/detail/sync.hpp"
#include "loopvisor/detail/task_launch.hpp"
#include "loopvisor/task_status.hpp"

namespace loopvisor {
class Loop;
}

namespace loopvisor::detail {

/// State machine of one task, lived on its loop.
///
/// - pending: created, its first step queued. Invariant: registered with the loop, not started.
/// - running: its coroutine has started. Invariant: registered; `signal_` reaches its awaits.
/// - done: returned (value set) or raised (`error_` set). Invariant: unregistered, hooks run,
///   done callbacks scheduled.
/// - cancelled: ended by cancellation (CancelledError, or operation_aborted while a cancel was
///   requested), or never started. Same invariants as done.
///
/// Thread safety: `status()`, `id()` and `cancel()` from any thread; everything else only on
/// the task's loop. A cross-thread `cancel()` is posted to the loop (waking it) outside the
/// bounded inbox, so it is never rejected.
class TaskBase : public std::enable_shared_from_this<TaskBase>, private TaskLaunch {
 public:
  TaskBase(Loop& loop, std::string name,
           loopvisor::source_location where = loopvisor::source_location::current());
  virtual ~TaskBase();
  TaskBase(const TaskBase&) = delete;
  TaskBase& operator=(const TaskBase&) = delete;

  std::uint64_t id() const noexcept { return id_; }
  /// The name given at creation or by set_name, else "Task-<id>" (built when asked: most
  /// tasks are never named or asked).
  std::string name() const;
  void set_name(std::string name);
  TaskStatus status() const noexcept {
    // sync: acquire pairs with the release in finish(): a reader that sees a terminal state
    // from another thread only uses it as a hint (results are read on the loop).
    return status_.load(std::memory_order_acquire);
  }
  bool is_terminal() const noexcept {
    const TaskStatus s = status();
    return s == TaskStatus::done || s == TaskStatus::cancelled;
  }
  /// The task's loop; RuntimeClosed once that loop has been destroyed (a handle kept longer).
  /// On the task's loop (or while it is known to live).
  Loop& loop() const;
  const std::shared_ptr<LoopShared>& shared() const noexcept { return shared_; }
  std::chrono::steady_clock::time_point created_at() const noexcept { return created_; }
  /// "file:line" of the create_task call.
  std::string origin() const;
  TaskInfo info() const;

  /// asyncio's Task.cancel(msg): false if already done or cancelled, else requests cancellation
  /// and returns true. The request is remembered until it is delivered (the task's current
  /// await is cancelled) or the task ends: a task that returns before it is delivered ends
  /// cancelled. `message` (latest wins) is what its CancelledError says.
  bool cancel(std::string message = {});

  /// asyncio's Task.cancelling(): cancel requests not yet withdrawn by uncancel(). On loop.
  int cancelling() const noexcept { return cancel_requests_; }
  /// asyncio's Task.uncancel(): withdraws one request and returns how many remain; at zero an
  /// undelivered request is forgotten (3.13). On loop.
  int uncancel() noexcept;

  /// Schedules `fn` with call_soon once the task is done (at once if it is); returns an id for
  /// remove_done_callback.
  std::uint64_t add_done_callback(Callback fn);
  /// Removes a callback not yet scheduled; true if it was there.
  bool remove_done_callback(std::uint64_t id) noexcept;
  /// Runtime-internal: like add_done_callback, for an awaiter resumed in registration order
  /// with the user's callbacks (not counted as a dropped callback when the loop is torn down).
  void add_awaiter(Callback fn);

  /// Runtime-internal: runs `fn` synchronously at the end (now if already ended). On loop.
  void add_hook(Callback fn);

  /// The exception to report to a reader (CancelledError if cancelled), marking it retrieved.
  std::exception_ptr retrieve_exception();
  /// Runtime-internal, for a task no handle can read (run_coroutine_threadsafe's): what
  /// retrieve_exception returns, its error moved out so the future that receives it is its only
  /// owner. An exception object's reference count lives in libsupc++, which ThreadSanitizer does
  /// not instrument: the task (released on its loop) and a future (read on another thread) both
  /// owning it looked to TSan like a read racing with the free. One owner, the future, is freed
  /// through its shared state's reference count, which TSan sees.
  std::exception_ptr take_exception();
  /// Marks an error as reported to someone (gather, cancel of a failed task), without reading it.
  void mark_retrieved() noexcept { retrieved_.store(true); }
  /// The CancelledError this task's cancellation carries (its cancel message, if any).
  std::exception_ptr cancelled_error() const;
  /// The message of the latest cancel request (empty if none or none given). On loop.
  const std::string& cancel_message() const noexcept;

  boost::asio::cancellation_signal& signal() noexcept { return signal_; }
  /// The task's coroutine stack is gone (its bottom frame is being destroyed): frees the
  /// cancellation state Asio emplaced in `signal_` for it now rather than with this state,
  /// which Task handles may keep long after. It goes to the thread's recycling cache, from
  /// which the next task's launch takes it, instead of one malloc and free per task.
  void release_stack_state() noexcept { signal_.slot().clear(); }

  /// Reports a failure concerning this task through its loop's exception handler.
  void report(std::string message, std::exception_ptr error = nullptr) noexcept;

  // Lifecycle, driven by the task's coroutine wrapper.
  bool begin() noexcept;  ///< pending → running; false if cancelled before the first step
  void finish_ok() noexcept;
  void finish_error(std::exception_ptr error) noexcept;  ///< classifies cancellation
  void finish_cancelled() noexcept;
  void abandon() noexcept;  ///< its coroutine frame was destroyed while pending or running
  void request_cancel_before_start() noexcept { cancel_requested_ = true; }
  bool abandoned() const noexcept { return abandoned_; }
  /// Runtime-internal: the step in which the task cancelled itself has suspended; deliver.
  void deliver_deferred_cancel() noexcept;
  bool has_error() const noexcept { return error_ != nullptr; }

 private:
  friend void launch_task(TaskBase& task, TaskEntry entry, boost::asio::detail::scheduler& scheduler);
  /// The TaskLaunch operation's function (task_driver.cpp): runs the first step, or with a null
  /// `owner` (destroyed unrun) lets the frame go.
  static void launch_step(void* owner, boost::asio::detail::scheduler_operation* op,
                          const boost::system::error_code&, std::size_t);

  bool cancel_on_loop(std::string message) noexcept;
  void emit_cancel() noexcept;
  void finish(TaskStatus to) noexcept;

  const std::uint64_t id_;
  std::shared_ptr<LoopShared> shared_;
  const std::chrono::steady_clock::time_point created_;
  const loopvisor::source_location where_;
  std::exception_ptr error_;
  // What most tasks never have, allocated at its first use: one pointer otherwise.
  struct Extras {
    std::optional<std::string> name;
    std::string cancel_message;
    std::vector<Callback> hooks;
  };
  Extras& extras();
  std::unique_ptr<Extras> extras_;
  DoneCallbacks done_callbacks_;
  boost::asio::cancellation_signal signal_;
  // The small fields last: TaskState<T>'s value can then start in the padding they leave.
  // Requests made from other threads whose posted delivery has not run yet.
  // sync: the increment (any thread) precedes the post; the decrement is on the loop.
  atomic<int> remote_cancels_{0};
  int cancel_requests_ = 0;
  atomic<TaskStatus> status_{TaskStatus::pending};
  bool cancel_requested_ = false;
  // A request not yet delivered to an await (asyncio's _must_cancel). On loop.
  bool must_cancel_ = false;
  bool emitting_ = false;  // re-entrancy guard: an emission that cancels back into this task
  atomic<bool> retrieved_{false};
  bool abandoned_ = false;
};

template <class T>
class TaskState final : public TaskBase {
 public:
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  using TaskBase::TaskBase;

  template <class... V>
  void set_value(V&&... v) {
    value_.emplace(std::forward<V>(v)...);
  }
  /// Copy of the value (many readers), or moved out once for move-only types.
  Stored read_value() {
    if constexpr (std::is_copy_constructible_v<Stored>) {
      return *value_;
    } else {
      if (!value_) throw_taken();
      Stored out = std::move(*value_);
      value_.reset();
      return out;
    }
  }

 private:
  [[noreturn]] static void throw_taken();
  std::optional<Stored> value_;
};

/// Owns a reference to a task until its coroutine frame is destroyed. If that happens before
/// the task ended (the loop was torn down under it), the task is abandoned: reported as
/// "Task was destroyed but it is pending" and its awaiters get RuntimeClosed. The task's frame
/// reaches its state through it (one reference in the frame, not two).
template <class T>
class TaskGuard {
 public:
  explicit TaskGuard(std::shared_ptr<TaskState<T>> task) noexcept : task_(std::move(task)) {}
  TaskGuard(TaskGuard&& other) noexcept : task_(std::move(other.task_)) {}
  TaskGuard& operator=(TaskGuard&&) = delete;
  ~TaskGuard() {
    if (!task_) return;
    if (!task_->is_terminal()) task_->abandon();
    task_->release_stack_state();
  }

  TaskState<T>* operator->() const noexcept { return task_.get(); }

 private:
  std::shared_ptr<TaskState<T>> task_;
};

[[noreturn]] void throw_result_taken();

/// The task whose code runs on this thread now, or null (off a loop or outside any task).
std::shared_ptr<TaskBase> current_task_state();
/// CancelledError for an await in the current task: its cancel message if it has one, else
/// "<what> was cancelled".
std::exception_ptr current_cancelled_error(const char* what);
/// The current task's cancel message (empty off a task or without one): what a combinator
/// passes on to the children it cancels because it was cancelled itself.
std::string current_cancel_message();
/// Id of the task whose code this thread is running (0: none).
std::uint64_t current_task_id() noexcept;

template <class T>
void TaskState<T>::throw_taken() {
  throw_result_taken();
}

}  // namespace loopvisor::detail
