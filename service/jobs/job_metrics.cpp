// JobMetrics: one snapshot of the registry's counts per scrape.
#include "job_metrics.hpp"

#include "job_registry.hpp"

namespace loopvisor::service {

namespace {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add_counter(prometheus::MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels, double v) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = v;
  f.metric.push_back(std::move(m));
}

void add_gauge(prometheus::MetricFamily& f, double v) {
  prometheus::ClientMetric m;
  m.gauge.value = v;
  f.metric.push_back(std::move(m));
}

}  // namespace

std::vector<prometheus::MetricFamily> JobMetrics::Collect() const {
  const JobCounts counts = registry_.counts();
  auto submitted = family("loopvisor_jobs_submitted_total",
                          "Jobs accepted by POST /v1/jobs, by kind (counted when accepted).",
                          prometheus::MetricType::Counter);
  for (const auto& kind : job_kinds()) {
    const auto it = counts.submitted.find(std::string(kind.name));
    add_counter(submitted, {{"kind", std::string(kind.name)}},
                it == counts.submitted.end() ? 0.0 : static_cast<double>(it->second));
  }
  auto finished = family("loopvisor_jobs_finished_total",
                         "Jobs that reached a final state, by kind and state (counted when they do).",
                         prometheus::MetricType::Counter);
  // Every kind and final state from the start, at 0 until one ends so: a ratio or an alert on
  // this family has its series before the first job fails (absent series read as no data).
  for (const auto& kind : job_kinds()) {
    for (const auto state :
         {JobState::succeeded, JobState::failed, JobState::cancelled, JobState::timed_out}) {
      const auto key = std::make_pair(std::string(kind.name), std::string(to_string(state)));
      const auto it = counts.finished.find(key);
      add_counter(finished, {{"kind", key.first}, {"state", key.second}},
                  it == counts.finished.end() ? 0.0 : static_cast<double>(it->second));
    }
  }
  auto rejected = family("loopvisor_jobs_rejected_total",
                         "Job requests refused after they were checked, by reason: too_many (max_active "
                         "reached), loop_busy (submission queue full), closed (shutting down).",
                         prometheus::MetricType::Counter);
  for (const auto reason :
       {JobRejected::Reason::too_many, JobRejected::Reason::loop_busy, JobRejected::Reason::closed}) {
    const std::string name(to_string(reason));
    const auto it = counts.rejected.find(name);
    add_counter(rejected, {{"reason", name}},
                it == counts.rejected.end() ? 0.0 : static_cast<double>(it->second));
  }
  auto active = family("loopvisor_jobs_active", "Jobs queued or running now.", prometheus::MetricType::Gauge);
  add_gauge(active, static_cast<double>(counts.active));
  // Apart, because they mean different things: queued jobs wait for a loop that is behind (or
  // frozen), running ones hold their loop's time.
  auto queued = family("loopvisor_jobs_queued",
                       "Jobs accepted but not started yet: their loop has not reached them (a growing "
                       "value means a loop that is behind or stalled).",
                       prometheus::MetricType::Gauge);
  add_gauge(queued, static_cast<double>(counts.queued));
  auto running =
      family("loopvisor_jobs_running", "Jobs started and not yet final.", prometheus::MetricType::Gauge);
  add_gauge(running, static_cast<double>(counts.running));
  auto retained = family("loopvisor_jobs_retained",
                         "Job records held for GET /v1/jobs (active ones and up to [jobs] max_finished "
                         "finished ones).",
                         prometheus::MetricType::Gauge);
  add_gauge(retained, static_cast<double>(counts.retained));
  return {std::move(submitted), std::move(finished), std::move(rejected), std::move(active),
          std::move(queued),    std::move(running),  std::move(retained)};
}

}  // namespace loopvisor::service
