// Metrics: prometheus-cpp Collectables that snapshot the runtime's own counters at scrape time.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <vector>

#include "loopvisor/detail/lifeline.hpp"

namespace loopvisor {

class Supervisor;

/// Every loop's counters (label `loop` = its index), the blocking pool and
/// `loopvisor_build_info`, read from loop-owned plain counters when Collect() runs: the hot
/// paths never touch a prometheus-cpp object.
///
/// Register it with a prometheus-cpp Exposer (`exposer.RegisterCollectable(collector)`), or
/// serialise `Collect()` yourself. It may outlive its Supervisor (an Exposer holds collectors
/// weakly, so declaration order decides which goes first): once the supervisor is gone,
/// Collect() returns `loopvisor_build_info` only. A supervisor's destructor waits for a
/// Collect() already under way.
///
/// Thread safety: Collect() from any thread, concurrently with the loops.
class RuntimeCollector : public prometheus::Collectable {
 public:
  explicit RuntimeCollector(const Supervisor& supervisor);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::shared_ptr<detail::Lifeline<Supervisor>> supervisor_;
};

/// The standard `process_*` metrics (cpu seconds, resident and virtual memory, open and max
/// fds, start time, threads), read from /proc at scrape time — prometheus-cpp has none.
///
/// Thread safety: Collect() from any thread.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

/// Prometheus text exposition format 0.0.4 of `families`.
std::string serialize_metrics(const std::vector<prometheus::MetricFamily>& families);

}  // namespace loopvisor
