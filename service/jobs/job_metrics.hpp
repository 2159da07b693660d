// JobMetrics: the job registry's counts as Prometheus metrics, read at scrape time.
#pragma once

#include <memory>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace loopvisor::service {

class JobRegistry;

/// loopvisor_jobs_submitted_total{kind}, loopvisor_jobs_finished_total{kind,state},
/// loopvisor_jobs_rejected_total{reason}, loopvisor_jobs_active, loopvisor_jobs_retained.
/// Labels are bounded: kinds and states are fixed sets, reasons too.
///
/// Thread safety: Collect() from any thread. The registry must outlive this collector.
class JobMetrics : public prometheus::Collectable {
 public:
  explicit JobMetrics(const JobRegistry& registry) : registry_(registry) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const JobRegistry& registry_;
};

}  // namespace loopvisor::service
