// AdminMetrics: counts by (route, code), snapshotted at scrape time.
#include "admin_metrics.hpp"

#include <algorithm>
#include <iterator>
#include <limits>

#include "router.hpp"

namespace loopvisor::service {

namespace {

// Seconds. Health and metrics answer in well under a millisecond; GET /v1/jobs/{id}?wait_ms
// long-polls up to a minute.
constexpr double duration_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25,   0.5,   1,      2.5,   5,    10,    30,   60};

void bump(std::map<std::string, std::uint64_t, std::less<>>& counts, std::string_view key) {
  auto it = counts.find(key);
  if (it == counts.end()) it = counts.emplace(std::string(key), 0).first;
  ++it->second;
}

prometheus::MetricFamily counter_family(std::string name, std::string help, const std::string& label,
                                        const std::map<std::string, std::uint64_t, std::less<>>& counts) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Counter;
  for (const auto& [key, n] : counts) {
    prometheus::ClientMetric m;
    m.label = {{label, key}};
    m.counter.value = static_cast<double>(n);
    family.metric.push_back(std::move(m));
  }
  return family;
}

}  // namespace

AdminMetrics::AdminMetrics()
    : refused_{{"max_connections", 0}, {"per_client", 0}},
      accept_errors_{{"out_of_descriptors", 0}, {"other", 0}} {}

void AdminMetrics::refused(std::string_view reason) {
  std::lock_guard guard(mu_);
  bump(refused_, reason);
}

void AdminMetrics::accept_failed(std::string_view reason) {
  std::lock_guard guard(mu_);
  bump(accept_errors_, reason);
}

void AdminMetrics::count(std::string_view route, unsigned status, double seconds) {
  std::lock_guard guard(mu_);
  ++requests_[{std::string(route), status}];
  auto it = durations_.find(route);
  if (it == durations_.end()) {
    it = durations_.emplace(std::string(route), Durations{}).first;
    it->second.buckets.assign(std::size(duration_bounds), 0);
  }
  auto& d = it->second;
  const auto* bound = std::lower_bound(std::begin(duration_bounds), std::end(duration_bounds), seconds);
  if (bound != std::end(duration_bounds))
    ++d.buckets[static_cast<std::size_t>(bound - std::begin(duration_bounds))];
  ++d.count;
  d.sum += seconds;
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
  prometheus::MetricFamily durations;
  durations.name = "loopvisor_admin_request_duration_seconds";
  durations.help = "Admin requests from their header read to their answer written, by route.";
  durations.type = prometheus::MetricType::Histogram;
  for (const auto& [route, d] : durations_) {
    prometheus::ClientMetric m;
    m.label = {{"route", route}};
    m.histogram.sample_count = d.count;
    m.histogram.sample_sum = d.sum;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < d.buckets.size(); ++i) {
      cumulative += d.buckets[i];
      m.histogram.bucket.push_back({cumulative, duration_bounds[i]});
    }
    m.histogram.bucket.push_back({d.count, std::numeric_limits<double>::infinity()});
    durations.metric.push_back(std::move(m));
  }
  return {
      std::move(family), std::move(durations),
      counter_family("loopvisor_admin_connections_refused_total",
                     "Admin connections closed unserved when accepted, by reason (max_connections: every "
                     "slot and the probe reserve taken; per_client: the client address's limit).",
                     "reason", refused_),
      counter_family("loopvisor_admin_accept_errors_total",
                     "Failed accepts on the admin listener, by reason (out_of_descriptors: EMFILE/ENFILE; "
                     "accepting pauses and backs off).",
                     "reason", accept_errors_)};
}

}  // namespace loopvisor::service
