// The task state machine: cancellation, completion, diagnostics, and the current-task marker.
#include "loopvisor/detail/task_state.hpp"

#include <fmt/format.h>
#include <algorithm>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <utility>

#include "loop_impl.hpp"
#include "loopvisor/detail/completion_watch.hpp"
#include "loopvisor/detail/origin.hpp"
#include "loopvisor/detail/task_executor.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor {

const char* to_string(TaskStatus status) noexcept {
  switch (status) {
    case TaskStatus::pending:
      return "pending";
    case TaskStatus::running:
      return "running";
    case TaskStatus::done:
      return "done";
    case TaskStatus::cancelled:
      return "cancelled";
  }
  return "unknown";
}

namespace detail {

namespace {
// sync: relaxed; ids only need to be unique.
atomic<std::uint64_t> next_task_id{1};
thread_local std::uint64_t tls_task_id = 0;
thread_local const TaskBase* tls_emitting = nullptr;  // the task whose cancel is being emitted
// A task that cancelled itself during its current step: delivered when the step suspends.
thread_local std::weak_ptr<TaskBase> tls_deferred_cancel;
}  // namespace

std::uint64_t current_task_id() noexcept { return tls_task_id; }
TaskScope::TaskScope(std::uint64_t id) noexcept
    : previous_(tls_task_id), busy_(previous_ == 0 ? LoopShared::current() : nullptr) {
  tls_task_id = id;
  // The busy measurement's clock reads time the step too; only a step it does not measure (one
  // nested in a drained batch) reads the coarse clock for slow-callback detection.
  if (previous_ == 0 && !busy_.measuring()) {
    auto* loop = LoopShared::current();
    if (loop != nullptr && loop->slow_threshold().count() > 0) start_ = coarse_now();
  }
}

TaskScope::~TaskScope() {
  if (previous_ == 0 && !tls_deferred_cancel.expired()) {
    // The step that asked for its own cancellation suspended: deliver it to what it awaits.
    auto task = tls_deferred_cancel.lock();
    tls_deferred_cancel.reset();
    if (task && task->id() == tls_task_id) task->deliver_deferred_cancel();
  }
  if (previous_ == 0) {
    auto* loop = LoopShared::current();
    std::chrono::nanoseconds took{};
    if (busy_.measuring()) {
      took = busy_.end();
    } else if (start_.count() != 0) {
      took = coarse_now() - start_;
    }
    if (loop != nullptr && loop->is_slow(took)) {
      std::string what = "a step of task #" + std::to_string(tls_task_id);
      if (Loop* owner = loop->owner()) {
        auto& tasks = owner->impl_->tasks;
        if (auto it = tasks.find(tls_task_id); it != tasks.end()) {
          what = "a step of task '" + it->second->name() + "' (#" + std::to_string(tls_task_id) + ")";
        }
      }
      loop->report_slow(what, took);
    }
  }
  tls_task_id = previous_;
}

std::exception_ptr current_cancelled_error(const char* what) {
  // During a cancel's emission the operations reached belong to the task being cancelled,
  // not to whoever called cancel().
  if (tls_emitting != nullptr && !tls_emitting->cancel_message().empty()) {
    return std::make_exception_ptr(CancelledError(tls_emitting->cancel_message()));
  }
  if (tls_emitting == nullptr) {
    if (auto task = current_task_state(); task && !task->cancel_message().empty()) {
      return std::make_exception_ptr(CancelledError(task->cancel_message()));
    }
  }
  return std::make_exception_ptr(CancelledError(std::string(what) + " was cancelled"));
}

std::string current_cancel_message() {
  if (tls_emitting != nullptr) return tls_emitting->cancel_message();
  auto task = current_task_state();
  return task ? task->cancel_message() : std::string();
}

void throw_result_taken() {
  throw InvalidStateError("the task's move-only result was already taken by an earlier reader");
}

TaskBase::TaskBase(Loop& loop, std::string name, loopvisor::source_location where)
    : TaskLaunch(&TaskBase::launch_step),
      id_(next_task_id.fetch_add(1, std::memory_order_relaxed)),
      shared_(loop_shared(loop)),
      created_(std::chrono::steady_clock::now()),
      where_(where) {
  if (!name.empty()) extras().name = std::move(name);
}

TaskBase::Extras& TaskBase::extras() {
  if (!extras_) extras_ = std::make_unique<Extras>();
  return *extras_;
}

std::string TaskBase::name() const {
  if (extras_ && extras_->name) return *extras_->name;
  return "Task-" + std::to_string(id_);
}

void TaskBase::set_name(std::string name) { extras().name = std::move(name); }

const std::string& TaskBase::cancel_message() const noexcept {
  static const std::string none;
  return extras_ ? extras_->cancel_message : none;
}

Loop& TaskBase::loop() const {
  Loop* owner = shared_->owner();
  if (owner == nullptr) {
    throw RuntimeClosed(
        fmt::format("task '{}' (#{}): its loop '{}' no longer exists", name(), id_, shared_->name()));
  }
  return *owner;
}

std::string TaskBase::origin() const { return origin_text(where_); }

TaskBase::~TaskBase() {
  if (error_ && !retrieved_.load() && status() == TaskStatus::done) {
    report("Task exception was never retrieved", error_);
  }
}

void TaskBase::report(std::string message, std::exception_ptr error) noexcept {
  try {
    ExceptionContext context;
    context.message = std::move(message);
    context.exception = std::move(error);
    context.task_id = id_;
    context.task_name = name();
    context.task_origin = origin();
    shared_->report(std::move(context));
  } catch (...) {
    // Out of memory while building the report: nothing better to do.
  }
}

TaskInfo TaskBase::info() const {
  TaskInfo info;
  info.id = id_;
  info.name = name();
  info.loop_index = shared_->index();
  info.status = status();
  info.age = std::chrono::steady_clock::now() - created_;
  info.origin = origin();
  return info;
}

bool TaskBase::cancel(std::string message) {
  if (!shared_->is_current()) {
    if (is_terminal()) {
      retrieved_.store(true);
      return false;
    }
    // Remembered at once: if the task ends before the posted request runs, it ends cancelled.
    remote_cancels_.fetch_add(1);
    // Posted outside the bounded inbox: a cancellation is never rejected, and it wakes the loop.
    const bool posted =
        shared_->post_control([self = shared_from_this(), msg = std::move(message)]() mutable {
          self->remote_cancels_.fetch_sub(1);
          self->cancel_on_loop(std::move(msg));
        });
    if (!posted) remote_cancels_.fetch_sub(1);
    return posted;
  }
  return cancel_on_loop(std::move(message));
}

bool TaskBase::cancel_on_loop(std::string message) noexcept {
  if (is_terminal()) {
    retrieved_.store(true);  // asyncio: cancel() of a failed task counts as having seen its error
    return false;
  }
  // Its own cancellation is being emitted and came back round a cycle of awaits (a awaits b
  // awaits a): refuse, so the await that closed the cycle fails at once instead of waiting.
  if (emitting_) return false;
  cancel_requested_ = true;
  ++cancel_requests_;
  if (!message.empty()) {
    try {
      extras().cancel_message = std::move(message);
    } catch (const std::bad_alloc&) {
      // Out of memory for the message: the cancel still happens, with the default message.
    }
  }
  if (status() != TaskStatus::running) return true;  // pending: begin() refuses to start it
  if (current_task_id() == id_) {
    // The task cancels itself from its own step: delivered to whatever it awaits next once
    // that step suspends (asyncio's _must_cancel), or it ends cancelled if it returns first.
    must_cancel_ = true;
    tls_deferred_cancel = weak_from_this();
    return true;
  }
  // Suspended: the emission reaches the operation it awaits (delivered). An operation whose
  // result is already queued turns it into CancelledError itself (our awaitables), or Asio's
  // cancellation state makes the next co_await throw.
  must_cancel_ = false;
  emit_cancel();
  return true;
}

void TaskBase::deliver_deferred_cancel() noexcept {
  if (!must_cancel_ || is_terminal()) return;
  must_cancel_ = false;
  emit_cancel();
}

void TaskBase::emit_cancel() noexcept {
  if (emitting_) return;
  emitting_ = true;
  const TaskBase* outer = std::exchange(tls_emitting, this);
  signal_.emit(boost::asio::cancellation_type::terminal);
  tls_emitting = outer;
  emitting_ = false;
}

int TaskBase::uncancel() noexcept {
  if (cancel_requests_ > 0) --cancel_requests_;
  if (cancel_requests_ == 0) must_cancel_ = false;
  return cancel_requests_;
}

std::uint64_t TaskBase::add_done_callback(Callback fn) {
  if (!shared_->is_current()) {
    throw WrongThreadError(
        fmt::format("Task::add_done_callback must be called on loop '{}'", shared_->name()));
  }
  if (!is_terminal()) return done_callbacks_.add(std::move(fn));
  loop().call_soon(std::move(fn));
  return done_callbacks_.skip_id();
}

bool TaskBase::remove_done_callback(std::uint64_t id) noexcept { return done_callbacks_.remove(id); }

void TaskBase::add_awaiter(Callback fn) {
  if (!is_terminal()) return done_callbacks_.add_awaiter(std::move(fn));
  loop().call_soon(std::move(fn));
}

void TaskBase::add_hook(Callback fn) {
  if (is_terminal()) {
    fn();
  } else {
    extras().hooks.push_back(std::move(fn));
  }
}

std::exception_ptr TaskBase::retrieve_exception() {
  retrieved_.store(true);
  if (error_) return error_;
  if (status() == TaskStatus::cancelled) return cancelled_error();
  return nullptr;
}

std::exception_ptr TaskBase::take_exception() {
  retrieved_.store(true);
  if (error_) return std::exchange(error_, nullptr);
  if (status() == TaskStatus::cancelled) return cancelled_error();
  return nullptr;
}

std::exception_ptr TaskBase::cancelled_error() const {
  if (!cancel_message().empty()) return std::make_exception_ptr(CancelledError(cancel_message()));
  return std::make_exception_ptr(CancelledError(fmt::format("task '{}' (#{}) was cancelled", name(), id_)));
}

bool TaskBase::begin() noexcept {
  if (cancel_requested_) return false;
  // sync: release; readers on other threads only use the status as a hint.
  status_.store(TaskStatus::running, std::memory_order_release);
  return true;
}

void TaskBase::finish_ok() noexcept {
  // asyncio 3.13: a coroutine that returns while a cancel request is undelivered ends cancelled.
  const bool undelivered = must_cancel_ || remote_cancels_.load() > 0;
  finish(undelivered ? TaskStatus::cancelled : TaskStatus::done);
}

void TaskBase::finish_cancelled() noexcept { finish(TaskStatus::cancelled); }

void TaskBase::finish_error(std::exception_ptr error) noexcept {
  // operation_aborted counts as cancellation only if a cancel was requested: a socket closed
  // under a task is an error of that task, not its cancellation.
  bool cancelled = false;
  try {
    std::rethrow_exception(error);
  } catch (const CancelledError&) {
    cancelled = true;
  } catch (...) {
    cancelled = cancel_requested_ && is_cancellation(error);
  }
  if (cancelled) {
    finish(TaskStatus::cancelled);
  } else {
    error_ = std::move(error);
    finish(TaskStatus::done);
  }
}

void TaskBase::abandon() noexcept {
  abandoned_ = true;
  retrieved_.store(true);
  try {
    error_ = std::make_exception_ptr(RuntimeClosed(fmt::format(
        "task '{}' (#{}) was destroyed while pending: its loop shut down before it finished", name(), id_)));
  } catch (...) {
  }
  report("Task was destroyed but it is pending");
  finish(TaskStatus::cancelled);
}

void TaskBase::finish(TaskStatus to) noexcept {
  // sync: release pairs with status()'s acquire.
  status_.store(to, std::memory_order_release);
  Loop* owner = shared_->owner();  // null while its loop is being destroyed (tasks abandoned)
  if (owner != nullptr) owner->impl_->on_task_finished(this, to);
  std::vector<Callback> hooks;
  if (extras_) hooks = std::move(extras_->hooks);
  for (auto& hook : hooks) {
    try {
      hook();
    } catch (...) {
      report("task completion hook raised an exception", std::current_exception());
    }
  }
  auto callbacks = done_callbacks_.take();
  if (abandoned_) {
    const auto dropped =
        std::count_if(callbacks.begin(), callbacks.end(), [](const auto& c) { return !c.is_awaiter(); });
    if (dropped > 0) report(fmt::format("{} done callback(s) dropped: the loop is gone", dropped));
    return;
  }
  for (auto& cb : callbacks) {
    try {
      loop().call_soon(std::move(cb.fn));
    } catch (...) {
      report("could not schedule a done callback", std::current_exception());
    }
  }
}

}  // namespace detail
}  // namespace loopvisor
