// AdminMetrics: counts by (route, code), snapshotted at scrape time.
#include "admin_metrics.hpp"

#include "router.hpp"

namespace loopvisor::service {

void AdminMetrics::count(std::string_view path, unsigned status) {
  std::string route = "unmatched";
  for (const auto& r : admin_routes()) {
    std::string_view id;
    if (path_matches(r.path, path, id)) route = std::string(r.path);
  }
  std::lock_guard guard(mu_);
  ++requests_[{std::move(route), status}];
}

std::vector<prometheus::MetricFamily> AdminMetrics::Collect() const {
  prometheus::MetricFamily family;
  family.name = "loopvisor_admin_requests_total";
  family.help =
      "Requests the admin HTTP server answered, by route and status code (counted as each answer is sent).";
  family.type = prometheus::MetricType::Counter;
  std::lock_guard guard(mu_);
  for (const auto& [key, n] : requests_) {
    prometheus::ClientMetric m;
    m.label = {{"code", std::to_string(key.second)}, {"route", key.first}};
    m.counter.value = static_cast<double>(n);
    family.metric.push_back(std::move(m));
  }
  return {std::move(family)};
}

}  // namespace loopvisor::service
