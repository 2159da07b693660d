// AdminMetrics: counts by (route, code), snapshotted at scrape time.
#include "admin_metrics.hpp"

#include "router.hpp"

namespace loopvisor::service {

namespace {

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
  return {
      std::move(family),
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
