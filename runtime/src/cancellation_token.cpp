// CancellationToken (cancellation_token.hpp).
#include "loopvisor/cancellation_token.hpp"

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

#include "loopvisor/detail/task_state.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor {

struct CancellationToken::State {
  mutable std::mutex mu;
  bool cancelled = false;                              // guarded by mu
  std::string message;                                 // guarded by mu
  std::vector<std::weak_ptr<detail::TaskBase>> tasks;  // guarded by mu
  std::vector<std::weak_ptr<State>> children;          // guarded by mu
};

namespace {

/// Forgets tasks and children that are gone, so a long-lived token does not grow.
template <class T>
void prune(std::vector<std::weak_ptr<T>>& v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](const std::weak_ptr<T>& w) { return w.expired(); }), v.end());
}

}  // namespace

CancellationToken::CancellationToken() : state_(std::make_shared<State>()) {}

bool CancellationToken::cancel(std::string message) {
  std::vector<std::weak_ptr<detail::TaskBase>> tasks;
  std::vector<std::weak_ptr<State>> children;
  {
    std::lock_guard g(state_->mu);
    if (state_->cancelled) return false;
    state_->cancelled = true;
    state_->message = message;
    tasks.swap(state_->tasks);
    children.swap(state_->children);
  }
  // Outside the lock: Task::cancel may run code (on this loop) that attaches to this token.
  for (auto& w : tasks) {
    if (auto task = w.lock()) task->cancel(message);
  }
  for (auto& w : children) {
    if (auto child = w.lock()) CancellationToken(child).cancel(message);
  }
  return true;
}

bool CancellationToken::cancelled() const noexcept {
  std::lock_guard g(state_->mu);
  return state_->cancelled;
}

std::string CancellationToken::message() const {
  std::lock_guard g(state_->mu);
  return state_->message;
}

void CancellationToken::attach(const AnyTask& task) {
  if (!task.state_) throw InvalidStateError("CancellationToken::attach: the task handle is empty");
  std::string message;
  {
    std::lock_guard g(state_->mu);
    if (!state_->cancelled) {
      prune(state_->tasks);
      state_->tasks.push_back(task.state_);
      return;
    }
    message = state_->message;
  }
  task.state_->cancel(message);
}

CancellationToken CancellationToken::child() const {
  auto child = std::make_shared<State>();
  {
    std::lock_guard g(state_->mu);
    if (!state_->cancelled) {
      prune(state_->children);
      state_->children.push_back(child);
      return CancellationToken(child);
    }
    child->cancelled = true;
    child->message = state_->message;
  }
  return CancellationToken(child);
}

}  // namespace loopvisor
