// CompletionWatch: records the order in which a set of tasks end and wakes one waiting coroutine.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "loopvisor/detail/task_state.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/sync/event.hpp"

namespace loopvisor::detail {

/// Hooks every child; each end appends the child's index to `finished` and sets the event.
/// Shared with the hooks, so it outlives a combinator that is cancelled early.
///
/// Thread safety: loop thread only (the children's loop).
class CompletionWatch : public std::enable_shared_from_this<CompletionWatch> {
 public:
  /// Throws WrongThreadError if a child belongs to another loop than the caller's (its state
  /// may only be read on its own loop), as a direct cross-loop await does.
  static std::shared_ptr<CompletionWatch> watch(const std::vector<std::shared_ptr<TaskBase>>& children) {
    for (const auto& child : children) {
      if (!child->shared()->is_current()) {
        throw WrongThreadError(
            "task '" + child->name() +
            "' belongs to another loop: gather, wait, as_completed, wait_for and timeout "
            "take tasks of the calling loop only (await a ThreadFuture for another loop's work)");
      }
    }
    auto self = std::make_shared<CompletionWatch>();
    self->children = children;
    for (std::size_t i = 0; i < children.size(); ++i) {
      children[i]->add_hook([weak = std::weak_ptr<CompletionWatch>(self), i] {
        if (auto watch = weak.lock()) {
          watch->finished.push_back(i);
          watch->event.set();
        }
      });
    }
    return self;
  }

  /// Waits until a child ends that was not seen yet (returns at once if one already did).
  boost::asio::awaitable<void> next() {
    while (seen == finished.size()) {
      event.clear();
      co_await event.wait();
    }
  }

  /// Waits until more than `known` children have ended, or interrupt() is called.
  boost::asio::awaitable<void> wait_change(std::size_t known) {
    event.clear();
    if (finished.size() != known) co_return;
    co_await event.wait();
  }

  bool all_done() const noexcept { return finished.size() == children.size(); }

  /// Cancels every child that has not ended.
  /// Wakes the waiter without a child ending (a timeout, a rescheduled deadline).
  void interrupt() {
    interrupted = true;
    event.set();
  }

  void cancel_pending(const std::string& message = {}) {
    for (auto& child : children) {
      if (!child->is_terminal()) child->cancel(message);
    }
  }

  std::vector<std::shared_ptr<TaskBase>> children;
  std::vector<std::size_t> finished;  // indices in completion order
  std::size_t seen = 0;               // how many of `finished` the waiter has looked at
  bool interrupted = false;           // interrupt() called since the waiter last looked
  Event event;
};

}  // namespace loopvisor::detail
