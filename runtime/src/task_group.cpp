// TaskGroup: sibling cancellation on the first failure, waiting, and the ExceptionGroup.
#include "loopvisor/task_group.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/this_coro.hpp>

namespace loopvisor {

namespace detail {

void GroupState::abort() {
  aborting = true;
  for (auto& child : children) {
    if (!child->is_terminal()) child->cancel();
  }
}

void GroupState::on_child_end(TaskBase& child) {
  auto it = std::find_if(children.begin(), children.end(), [&](const auto& c) { return c.get() == &child; });
  std::shared_ptr<TaskBase> keep;
  if (it != children.end()) {
    keep = std::move(*it);  // alive until the end of this hook
    children.erase(it);
  }
  if (child.status() == TaskStatus::done && child.has_error()) {
    errors.push_back(child.retrieve_exception());
    if (!aborting) {
      abort();
      // asyncio: the parent's own code inside the block is cancelled too, unless it already
      // waits in wait() (which returns once the children are done).
      if (!exiting) {
        if (auto p = parent.lock(); p && !p->is_terminal() && p->cancel()) parent_cancel_requested = true;
      }
    }
  } else if (child.status() == TaskStatus::cancelled) {
    (void)child.retrieve_exception();  // a cancelled child is not an error of the group
  }
  changed.set();
}

}  // namespace detail

TaskGroup::TaskGroup() : loop_(&Loop::current()), state_(std::make_shared<detail::GroupState>()) {
  state_->parent = detail::current_task_state();
}

TaskGroup::~TaskGroup() {
  if (state_->children.empty() && (state_->closed || state_->errors.empty())) return;
  const std::size_t running = state_->children.size();
  for (auto& child : state_->children) {
    if (!child->is_terminal()) child->cancel();
  }
  try {
    ExceptionContext context;
    context.message = fmt::format(
        "TaskGroup destroyed without wait(): {} child task(s) still running were cancelled and {} child "
        "error(s) were never retrieved (co_await group.wait() on every path, or use group.run(body))",
        running, state_->errors.size());
    if (!state_->errors.empty()) context.exception = state_->errors.front();
    loop_->call_exception_handler(std::move(context));
  } catch (...) {
    // Out of memory while reporting: nothing better to do in a destructor.
  }
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
  ++state_->created;
  child->add_hook([weak = std::weak_ptr<detail::GroupState>(state_), raw = child.get()] {
    if (auto state = weak.lock()) state->on_child_end(*raw);
  });
}

namespace {

/// __aexit__: waits for every child; `body_error` is what the block's own code raised.
boost::asio::awaitable<void> exit_group(std::shared_ptr<detail::GroupState> state,
                                        std::exception_ptr body_error) {
  state->exiting = true;
  std::exception_ptr propagate_cancel;
  if (body_error) {
    if (is_cancellation(body_error)) {
      propagate_cancel = body_error;
      body_error = nullptr;
    }
    if (!state->aborting) state->abort();
  }
  while (!state->children.empty()) {
    state->changed.clear();
    std::exception_ptr cancelled;
    try {
      co_await state->changed.wait();
    } catch (...) {
      cancelled = std::current_exception();
    }
    if (cancelled) {
      // The parent was cancelled while waiting: cancel the children, keep waiting for them
      // with a fresh cancellation state (the old one would fail every await at once).
      if (!state->aborting) {
        propagate_cancel = cancelled;
        state->abort();
      }
      co_await boost::asio::this_coro::reset_cancellation_state();
    }
  }
  state->closed = true;
  auto parent = state->parent.lock();
  if (state->parent_cancel_requested && parent) {
    // Withdraw the cancel the group sent; with none left, its CancelledError is absorbed.
    if (parent->uncancel() == 0) propagate_cancel = nullptr;
  }
  if (propagate_cancel && state->errors.empty() && !body_error) std::rethrow_exception(propagate_cancel);
  if (body_error) state->errors.push_back(body_error);
  if (!state->errors.empty()) {
    if (parent && parent->cancelling() > 0) {
      // A cancel from outside arrived while the group was failing: the ExceptionGroup goes out,
      // and the request stays pending for the parent's next await (asyncio re-cancels).
      parent->uncancel();
      parent->cancel(parent->cancel_message());
    }
    throw ExceptionGroup(
        fmt::format("{} of {} task(s) in the group failed", state->errors.size(), state->created),
        state->errors);
  }
}

}  // namespace

boost::asio::awaitable<void> TaskGroup::wait() { co_await exit_group(state_, nullptr); }

boost::asio::awaitable<void> TaskGroup::run(boost::asio::awaitable<void> body) {
  auto state = state_;
  std::exception_ptr body_error;
  try {
    co_await std::move(body);
  } catch (...) {
    body_error = std::current_exception();
  }
  if (body_error && is_cancellation(body_error)) {
    // The block's cancellation (ours or from outside) must not fail the waits that follow.
    co_await boost::asio::this_coro::reset_cancellation_state();
  }
  co_await exit_group(state, body_error);
}

}  // namespace loopvisor
