// AdminMetrics: the admin server's own request counters, as a Collectable.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace loopvisor::service {

/// `loopvisor_admin_requests_total{code, route}`: requests the admin server answered, by
/// status code and route ("unmatched" for a path no route has, so the label stays bounded).
///
/// Thread safety: count() and Collect() from any thread (a mutex; admin traffic is light).
class AdminMetrics : public prometheus::Collectable {
 public:
  void count(std::string_view path, unsigned status);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests_;  // guarded by mu_
};

}  // namespace loopvisor::service
