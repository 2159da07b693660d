// JobRegistry: accepts jobs, runs each as a task on a loop, and keeps their records.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "job.hpp"
#include "job_ids.hpp"
#include "job_kind.hpp"
#include "loopvisor/config/daemon_config.hpp"
#include "loopvisor/supervisor.hpp"
#include "loopvisor/thread_future.hpp"

namespace loopvisor::service {

/// What POST /v1/jobs asked for, already checked.
struct JobRequest {
  const JobKind* kind = nullptr;
  JobBody body;
  std::string name;
  std::chrono::milliseconds timeout{0};
  /// Where to run it: a loop index, else the loop a key maps to, else the placement policy.
  std::optional<std::size_t> loop;
  std::optional<std::string> key;
};

/// A job that was not accepted. Nothing of it runs and no record is kept.
class JobRejected : public std::runtime_error {
 public:
  /// too_many: max_active jobs are queued or running. loop_busy: the loop's submission queue
  /// is full. closed: the runtime is shutting down.
  enum class Reason { too_many, loop_busy, closed };
  JobRejected(Reason reason, const std::string& message) : std::runtime_error(message), reason_(reason) {}
  Reason reason() const noexcept { return reason_; }

 private:
  Reason reason_;
};
std::string_view to_string(JobRejected::Reason reason) noexcept;

/// The counts behind the loopvisor_jobs_* metrics.
struct JobCounts {
  std::map<std::string, std::uint64_t> submitted;                         ///< by kind
  std::map<std::pair<std::string, std::string>, std::uint64_t> finished;  ///< by kind, final state
  std::map<std::string, std::uint64_t> rejected;                          ///< by reason
  std::size_t active = 0;                                                 ///< queued or running
  std::size_t queued = 0;    ///< accepted, not started by their loop yet (its queue is behind)
  std::size_t running = 0;   ///< started, not final
  std::size_t retained = 0;  ///< records held
  std::size_t waiting = 0;   ///< on_final() waiters not yet called (requests waiting for a job)
};

/// What happened to jobs between two counts (a shutdown's start and end): "jobs: 3 active at
/// the start; ended 3 succeeded, 2 cancelled" — the daemon's shutdown log line, in jobs, not in
/// the tasks that run them.
std::string describe_jobs_between(const JobCounts& before, const JobCounts& after);

/// Every job the daemon accepted: submit() places it on a loop as a task (its body under the
/// job's time limit) and records each transition (see JobState). At most max_active jobs are
/// queued or running; finished records are kept until max_finished newer ones finished or a
/// DELETE forgets them. Every accepted job reaches a final state: it runs, or it is cancelled
/// (DELETE, or the supervisor's shutdown), and its record says which.
///
/// Thread safety: every member is safe from any thread (one mutex; the loops take it once
/// when a job starts and once when it ends). The registry may be destroyed before jobs end:
/// they keep the shared record state alive.
class JobRegistry {
 public:
  /// `instance` names this daemon in every record (instance_name() of [admin] instance).
  JobRegistry(Supervisor& supervisor, config::JobsConfig config, std::string instance = instance_name(""));
  ~JobRegistry();
  JobRegistry(const JobRegistry&) = delete;
  JobRegistry& operator=(const JobRegistry&) = delete;

  /// Accepts `request` and returns its record (queued), or throws JobRejected. Never blocks.
  JobSnapshot submit(JobRequest request);

  std::optional<JobSnapshot> get(std::uint64_t id) const;

  /// The ids this run gives its jobs (JobSnapshot::public_id); parse() turns one back into the
  /// number the members here take.
  const JobIds& ids() const noexcept { return ids_; }
  const std::string& instance() const noexcept { return instance_; }

  /// Records in id order, optionally only those in `state`.
  /// A page of summaries (summary_of: no result, the error cut), so a listing stays small
  /// whatever the jobs returned.
  struct Page {
    std::size_t total = 0;  ///< matching records
    std::vector<JobSnapshot> jobs;
  };
  Page list(std::optional<JobState> state, std::size_t offset, std::size_t limit) const;

  /// DELETE: a job not yet final is asked to cancel (queued: cancelled at once; running: at
  /// its next await) and kept; a final one is forgotten. nullopt for an unknown id.
  enum class Removal { cancelling, forgotten };
  std::optional<std::pair<Removal, JobSnapshot>> cancel_or_forget(std::uint64_t id);

  /// Calls `wake()` once job `id` is final, from the thread that ends it and under the
  /// registry's lock: `wake` must be quick and only hand the news on (post it), never call
  /// back into the registry. Returns a token for forget_waiter(), or nullopt (and drops
  /// `wake`) if the job is unknown or already final.
  std::optional<std::uint64_t> on_final(std::uint64_t id, std::function<void()> wake);
  /// Drops the waiter `token` of job `id` if it has not been called yet.
  void forget_waiter(std::uint64_t id, std::uint64_t token) noexcept;
  /// Drops every waiter not yet called: what they would post to is going away (the admin
  /// server calls this as it stops, while its io_context still exists).
  void drop_waiters() noexcept;

  JobCounts counts() const;
  /// The limits in force (a copy: a reload may replace them at any time).
  config::JobsConfig config() const;
  /// A configuration reload: later submissions see the new limits, allow list and exec
  /// settings; accepted jobs keep what they were accepted with. `enabled` is not consulted.
  void set_config(config::JobsConfig config);

  struct Shared;

 private:
  Supervisor& supervisor_;
  std::shared_ptr<Shared> shared_;
  JobIds ids_;
  std::string instance_;
};

}  // namespace loopvisor::service
