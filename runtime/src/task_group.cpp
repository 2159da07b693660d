// TaskGroup: sibling cancellation on the first failure, waiting, and the ExceptionGroup.
#include "loopvisor/task_group.hpp"

#include <fmt/format.h>
#include <boost/asio/this_coro.hpp>

namespace loopvisor {

namespace detail {

void GroupState::on_child_end(TaskBase& child) {
  --running;
  if (child.status() == TaskStatus::done && child.has_error()) {
    errors.push_back(child.retrieve_exception());
    if (!aborting) {
      aborting = true;
      for (auto& sibling : children) {
        if (!sibling->is_terminal()) sibling->cancel();
      }
    }
  } else if (child.status() == TaskStatus::cancelled) {
    (void)child.retrieve_exception();  // a cancelled child is not an error of the group
  }
  changed.set();
}

}  // namespace detail

TaskGroup::TaskGroup() : loop_(&Loop::current()), state_(std::make_shared<detail::GroupState>()) {}

TaskGroup::~TaskGroup() {
  if (state_->running == 0) return;
  for (auto& child : state_->children) {
    if (!child->is_terminal()) child->cancel();
  }
  ExceptionContext context;
  context.message = fmt::format(
      "TaskGroup destroyed with {} child task(s) still running; they were cancelled "
      "(co_await group.wait() before leaving its scope)",
      state_->running);
  loop_->call_exception_handler(std::move(context));
}

void TaskGroup::check_open() const {
  if (state_->closed)
    throw InvalidStateError("TaskGroup::create_task after wait() finished: the group is closed");
  if (state_->aborting) {
    throw InvalidStateError("TaskGroup::create_task while the group is shutting down after a child failed");
  }
}

void TaskGroup::adopt(const std::shared_ptr<detail::TaskBase>& child) {
  state_->children.push_back(child);
  ++state_->running;
  child->add_hook([weak = std::weak_ptr<detail::GroupState>(state_), raw = child.get()] {
    if (auto state = weak.lock()) state->on_child_end(*raw);
  });
}

boost::asio::awaitable<void> TaskGroup::wait() {
  auto state = state_;
  std::exception_ptr cancelled;
  while (state->running > 0) {
    state->changed.clear();
    try {
      co_await state->changed.wait();
    } catch (...) {
      cancelled = std::current_exception();
    }
    if (cancelled) {
      // The parent was cancelled: cancel the children, then wait for them with a fresh
      // cancellation state (the old one would fail every await at once).
      for (auto& child : state->children) {
        if (!child->is_terminal()) child->cancel();
      }
      co_await boost::asio::this_coro::reset_cancellation_state();
      while (state->running > 0) {
        state->changed.clear();
        co_await state->changed.wait();
      }
      break;
    }
  }
  state->closed = true;
  if (!state->errors.empty()) {
    throw ExceptionGroup(
        fmt::format("{} of {} task(s) in the group failed", state->errors.size(), state->children.size()),
        state->errors);
  }
  if (cancelled) std::rethrow_exception(cancelled);
}

}  // namespace loopvisor
