// Job: one piece of work submitted over the job API — its states and what GET shows of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace loopvisor::service {

/// A job's life: queued (accepted, waiting for its loop to start it), running (its body runs
/// as a task on its loop), then exactly one final state, never left again:
/// - succeeded: the body returned; `result` holds what it returned.
/// - failed: the body threw; `error` says why (`result` may hold what it left, e.g. output).
/// - cancelled: DELETE or shutdown cancelled it, before it started or while it ran.
/// - timed_out: it ran longer than its time limit and was cancelled.
enum class JobState { queued, running, succeeded, failed, cancelled, timed_out };

std::string_view to_string(JobState state) noexcept;
std::optional<JobState> parse_job_state(std::string_view text) noexcept;
constexpr bool is_final(JobState state) noexcept {
  return state != JobState::queued && state != JobState::running;
}

/// A copy of a job's record at one moment.
struct JobSnapshot {
  std::uint64_t id = 0;  ///< the job's number in this run (the registry's key and order)
  /// The id clients see, "<boot>-<id>" (JobIds): unique across restarts and replicas.
  std::string public_id;
  /// The daemon instance that owns the job ([admin] instance, else the host name).
  std::string instance;
  std::string kind;
  std::string name;
  JobState state = JobState::queued;
  std::size_t loop = 0;
  std::chrono::milliseconds timeout{0};
  std::chrono::system_clock::time_point created;
  std::optional<std::chrono::system_clock::time_point> started;
  std::optional<std::chrono::system_clock::time_point> finished;
  /// A DELETE asked for it to be cancelled (the final state says whether it was in time).
  bool cancel_requested = false;
  boost::json::value result;  ///< null until the body returns (or fails leaving something)
  std::string error;          ///< empty unless failed, cancelled or timed_out
  /// A summary: `result` was left out (to_json writes "result_omitted" instead of "result").
  bool summary = false;
};

/// The longest error a summary keeps (in bytes, cut at a UTF-8 boundary).
inline constexpr std::size_t summary_error_bytes = 512;

/// `job` without its result and with its error cut: what a listing shows of each job.
JobSnapshot summary_of(const JobSnapshot& job);

/// The JSON the job API returns for a job (times in RFC 3339 UTC, durations in seconds).
boost::json::object to_json(const JobSnapshot& job);

/// Thrown by a job body to fail with a message and still keep a result (an exec job's exit
/// code and output, say).
class JobFailure : public std::runtime_error {
 public:
  JobFailure(const std::string& message, boost::json::value result)
      : std::runtime_error(message), result_(std::move(result)) {}
  const boost::json::value& result() const noexcept { return result_; }

 private:
  boost::json::value result_;
};

}  // namespace loopvisor::service
