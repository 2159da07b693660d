// ShutdownReport: what a graceful shutdown did with the work it found.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace loopvisor {

/// Counts of what happened between the start of shutdown and its end, summed over loops.
struct ShutdownReport {
  std::uint64_t tasks_completed = 0;       ///< tasks that ended done (returned or raised)
  std::uint64_t tasks_cancelled = 0;       ///< tasks that ended cancelled
  std::uint64_t tasks_abandoned = 0;       ///< tasks that ignored cancellation past the bound
  std::uint64_t callbacks_run = 0;         ///< queued cross-thread callbacks run while draining
  std::uint64_t submissions_rejected = 0;  ///< submissions refused with RuntimeClosed
  std::uint64_t timers_cancelled = 0;      ///< call_later/call_at callbacks that never fired
  /// Blocking-pool jobs still queued or running when the join bound passed; they were left to
  /// finish in the background (asyncio's shutdown_default_executor(timeout)).
  std::uint64_t blocking_jobs_unfinished = 0;
  std::chrono::milliseconds elapsed{0};

  /// True if nothing had to be cancelled or abandoned.
  bool graceful() const noexcept { return tasks_cancelled == 0 && tasks_abandoned == 0; }

  ShutdownReport& operator+=(const ShutdownReport& other) noexcept;
  std::string to_string() const;
};

}  // namespace loopvisor
