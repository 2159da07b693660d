// ShutdownReport arithmetic and rendering.
#include "loopvisor/shutdown_report.hpp"

#include <fmt/format.h>

namespace loopvisor {

ShutdownReport& ShutdownReport::operator+=(const ShutdownReport& other) noexcept {
  tasks_completed += other.tasks_completed;
  tasks_cancelled += other.tasks_cancelled;
  tasks_abandoned += other.tasks_abandoned;
  callbacks_run += other.callbacks_run;
  submissions_rejected += other.submissions_rejected;
  timers_cancelled += other.timers_cancelled;
  blocking_jobs_unfinished += other.blocking_jobs_unfinished;
  elapsed = std::max(elapsed, other.elapsed);
  return *this;
}

std::string ShutdownReport::to_string() const {
  return fmt::format(
      "completed={} cancelled={} abandoned={} callbacks_run={} rejected={} timers_cancelled={} "
      "blocking_jobs_unfinished={} elapsed_ms={}",
      tasks_completed, tasks_cancelled, tasks_abandoned, callbacks_run, submissions_rejected,
      timers_cancelled, blocking_jobs_unfinished, elapsed.count());
}

}  // namespace loopvisor
