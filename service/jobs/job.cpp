// Job states by name, and a job's JSON form.
#include "job.hpp"

#include "../utc_time.hpp"

#include <fmt/format.h>

#include <array>

namespace loopvisor::service {

namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 6> state_names{{
    {JobState::queued, "queued"},
    {JobState::running, "running"},
    {JobState::succeeded, "succeeded"},
    {JobState::failed, "failed"},
    {JobState::cancelled, "cancelled"},
    {JobState::timed_out, "timed_out"},
}};

boost::json::value timestamp(const std::optional<std::chrono::system_clock::time_point>& t) {
  if (!t) return nullptr;
  // Milliseconds, in UTC: fmt 9 formatted a time_point in the local zone (and without the
  // fraction), so a host not on UTC got local times marked Z.
  return boost::json::value(utc_timestamp(*t));
}

double seconds(std::chrono::system_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::string_view to_string(JobState state) noexcept {
  for (const auto& [s, name] : state_names) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<JobState> parse_job_state(std::string_view text) noexcept {
  for (const auto& [s, name] : state_names) {
    if (name == text) return s;
  }
  return std::nullopt;
}

JobSnapshot summary_of(const JobSnapshot& job) {
  JobSnapshot out;
  out.id = job.id;
  out.public_id = job.public_id;
  out.instance = job.instance;
  out.kind = job.kind;
  out.name = job.name;
  out.state = job.state;
  out.loop = job.loop;
  out.timeout = job.timeout;
  out.created = job.created;
  out.started = job.started;
  out.finished = job.finished;
  out.cancel_requested = job.cancel_requested;
  out.summary = true;
  if (job.error.size() <= summary_error_bytes) {
    out.error = job.error;
  } else {
    std::size_t cut = summary_error_bytes;
    while (cut > 0 && (static_cast<unsigned char>(job.error[cut]) & 0xC0) == 0x80)
      --cut;  // not mid-character
    out.error = job.error.substr(0, cut) + "...";
  }
  return out;
}

boost::json::object to_json(const JobSnapshot& job) {
  boost::json::object out{
      {"id", job.public_id},
      {"instance", job.instance},
      {"kind", job.kind},
      {"name", job.name},
      {"state", to_string(job.state)},
      {"loop", job.loop},
      {"timeout_ms", job.timeout.count()},
      {"created_at", timestamp(job.created)},
      {"started_at", timestamp(job.started)},
      {"finished_at", timestamp(job.finished)},
      {"cancel_requested", job.cancel_requested},
  };
  if (job.summary) {
    out["result_omitted"] = true;  // GET /v1/jobs/ID has it
  } else {
    out["result"] = job.result;
  }
  out["error"] = job.error.empty() ? boost::json::value(nullptr) : boost::json::value(job.error);
  if (job.started) {
    const auto end = job.finished.value_or(std::chrono::system_clock::now());
    out["run_seconds"] = seconds(end - *job.started);
  } else {
    out["run_seconds"] = nullptr;
  }
  return out;
}

}  // namespace loopvisor::service
