// The task state machine: cancellation, completion, diagnostics, and the current-task marker.
#include "loopvisor/detail/task_state.hpp"

#include <fmt/format.h>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include "loop_impl.hpp"
#include "loopvisor/detail/completion_watch.hpp"
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
}  // namespace

std::uint64_t current_task_id() noexcept { return tls_task_id; }
TaskScope::TaskScope(std::uint64_t id) noexcept
    : previous_(tls_task_id), busy_(previous_ == 0 ? LoopShared::current() : nullptr) {
  tls_task_id = id;
  if (previous_ == 0) {
    auto* loop = LoopShared::current();
    if (loop != nullptr && loop->slow_threshold().count() > 0) start_ = coarse_now();
  }
}

TaskScope::~TaskScope() {
  if (previous_ == 0 && start_.count() != 0) {
    auto* loop = LoopShared::current();
    const auto took = coarse_now() - start_;
    if (loop != nullptr && took > loop->slow_threshold()) {
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

void throw_result_taken() {
  throw InvalidStateError("the task's move-only result was already taken by an earlier reader");
}

TaskBase::TaskBase(Loop& loop, std::string name, loopvisor::source_location where)
    : id_(next_task_id.fetch_add(1, std::memory_order_relaxed)),
      name_(name.empty() ? "Task-" + std::to_string(id_) : std::move(name)),
      loop_(&loop),
      shared_(loop.shared()),
      created_(std::chrono::steady_clock::now()),
      where_(where) {}

std::string TaskBase::origin() const {
  std::string file = where_.file_name();
  if (auto slash = file.rfind('/'); slash != std::string::npos) file = file.substr(slash + 1);
  return file + ":" + std::to_string(where_.line());
}

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
    context.task_name = name_;
    context.task_origin = origin();
    shared_->report(std::move(context));
  } catch (...) {
    // Out of memory while building the report: nothing better to do.
  }
}

TaskInfo TaskBase::info() const {
  TaskInfo info;
  info.id = id_;
  info.name = name_;
  info.loop_index = shared_->index();
  info.status = status();
  info.age = std::chrono::steady_clock::now() - created_;
  info.origin = origin();
  return info;
}

bool TaskBase::cancel() {
  if (!shared_->is_current()) {
    if (is_terminal()) return false;
    // Posted outside the bounded inbox: a cancellation is never rejected, and it wakes the loop.
    shared_->post_control([self = shared_from_this()] { self->cancel_on_loop(); });
    return true;
  }
  return cancel_on_loop();
}

bool TaskBase::cancel_on_loop() noexcept {
  if (is_terminal()) return false;
  cancel_requested_ = true;
  if (status() == TaskStatus::running) signal_.emit(boost::asio::cancellation_type::terminal);
  return true;
}

void TaskBase::add_done_callback(Callback fn) {
  if (!shared_->is_current()) {
    throw WrongThreadError(
        fmt::format("Task::add_done_callback must be called on loop '{}'", shared_->name()));
  }
  if (is_terminal()) {
    loop_->call_soon(std::move(fn));
  } else {
    done_callbacks_.push_back(std::move(fn));
  }
}

void TaskBase::add_hook(Callback fn) {
  if (is_terminal()) {
    fn();
  } else {
    hooks_.push_back(std::move(fn));
  }
}

std::exception_ptr TaskBase::retrieve_exception() {
  retrieved_.store(true);
  if (error_) return error_;
  if (status() == TaskStatus::cancelled) {
    return std::make_exception_ptr(CancelledError(fmt::format("task '{}' (#{}) was cancelled", name_, id_)));
  }
  return nullptr;
}

bool TaskBase::begin() noexcept {
  if (cancel_requested_) return false;
  // sync: release; readers on other threads only use the status as a hint.
  status_.store(TaskStatus::running, std::memory_order_release);
  return true;
}

void TaskBase::finish_ok() noexcept { finish(TaskStatus::done); }

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
        "task '{}' (#{}) was destroyed while pending: its loop shut down before it finished", name_, id_)));
  } catch (...) {
  }
  report("Task was destroyed but it is pending");
  finish(TaskStatus::cancelled);
}

void TaskBase::finish(TaskStatus to) noexcept {
  // sync: release pairs with status()'s acquire.
  status_.store(to, std::memory_order_release);
  loop_->impl_->on_task_finished(this, to);
  auto hooks = std::move(hooks_);
  for (auto& hook : hooks) {
    try {
      hook();
    } catch (...) {
      report("task completion hook raised an exception", std::current_exception());
    }
  }
  auto callbacks = std::move(done_callbacks_);
  if (abandoned_) {
    if (!callbacks.empty()) {
      report(fmt::format("{} done callback(s) dropped: the loop is gone", callbacks.size()));
    }
    return;
  }
  for (auto& cb : callbacks) {
    try {
      loop_->call_soon(std::move(cb));
    } catch (...) {
      report("could not schedule a done callback", std::current_exception());
    }
  }
}

}  // namespace detail
}  // namespace loopvisor
