// TaskStatus and TaskInfo: a task's lifecycle states and the snapshot introspection reports.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace loopvisor {

/// A task's lifecycle. pending → running → done | cancelled, or pending → cancelled when it
/// was cancelled before its first step. done means it returned or raised; cancelled means
/// cancellation ended it. One byte: it sits in every task's state.
enum class TaskStatus : std::uint8_t { pending, running, done, cancelled };

const char* to_string(TaskStatus status) noexcept;

/// A snapshot of one task for introspection (`all_tasks()`, `/debug/tasks`).
struct TaskInfo {
  std::uint64_t id = 0;
  std::string name;
  std::size_t loop_index = 0;
  TaskStatus status = TaskStatus::pending;
  std::chrono::steady_clock::duration age{};
  std::string origin;  ///< "file:line" where the task was created
};

}  // namespace loopvisor
