// The collectors loopvisord serves.
#include "admin_context.hpp"

#include "loopvisor/metrics.hpp"

namespace loopvisor::service {

std::vector<std::shared_ptr<prometheus::Collectable>> default_collectors(
    const Supervisor& supervisor, const config::MetricsConfig& metrics) {
  std::vector<std::shared_ptr<prometheus::Collectable>> out;
  if (!metrics.enabled) return out;
  out.push_back(std::make_shared<RuntimeCollector>(supervisor));
  if (metrics.process) out.push_back(std::make_shared<ProcessCollector>());
  return out;
}

}  // namespace loopvisor::service
