// CancellationToken: one switch that cancels every task attached to it, on any loop
// (Tokio's CancellationToken, for tasks).
#pragma once

#include <memory>
#include <string>

#include "loopvisor/task.hpp"

namespace loopvisor {

/// Tasks attach to a token (or `token.attach(current_task())` from inside); `cancel(msg)`
/// cancels every attached task still running, with asyncio's cancel(msg) rules, and every task
/// attached later at once. `child()` makes a token cancelled with this one (but not the other
/// way round), for a subtree of work. Copies share the token.
///
/// A token holds its tasks weakly: attaching keeps no task alive, and a token that outlives
/// its tasks holds nothing of them.
///
/// Thread safety: every member from any thread; tasks of different loops may share a token
/// (each is cancelled on its own loop, as Task::cancel from another thread does).
class CancellationToken {
 public:
  CancellationToken();

  /// Cancels every attached task and child token; false if it was already cancelled.
  bool cancel(std::string message = {});
  bool cancelled() const noexcept;
  /// The message given to the first cancel().
  std::string message() const;

  /// Attaches `task`: cancelled when the token is (at once if it already is).
  void attach(const AnyTask& task);
  template <class T>
  void attach(const Task<T>& task) {
    attach(AnyTask(task));
  }

  /// A token cancelled when this one is; cancelling it leaves this one alone.
  [[nodiscard]] CancellationToken child() const;

 private:
  struct State;
  explicit CancellationToken(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace loopvisor
