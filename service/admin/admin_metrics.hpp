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
/// `loopvisor_admin_request_duration_seconds{route}`: from the request's header read to its
/// answer being ready to send.
///
/// `loopvisor_admin_connections_refused_total{reason}`: connections closed unserved at accept.
/// `loopvisor_admin_accept_errors_total{reason}`: failed accepts ("out_of_descriptors" when
/// the process or system descriptor table is full, "other").
///
/// Thread safety: every member from any thread (a mutex; admin traffic is light).
class AdminMetrics : public prometheus::Collectable {
 public:
  AdminMetrics();
  /// One answered request: `route` as route_of() names it.
  void count(std::string_view route, unsigned status, double seconds);
  void refused(std::string_view reason);
  void accept_failed(std::string_view reason);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests_;  // guarded by mu_
  struct Durations {
    std::vector<std::uint64_t> buckets;  // per upper bound, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::map<std::string, Durations, std::less<>> durations_;          // guarded by mu_
  std::map<std::string, std::uint64_t, std::less<>> refused_;        // guarded by mu_
  std::map<std::string, std::uint64_t, std::less<>> accept_errors_;  // guarded by mu_
};

}  // namespace loopvisor::service
