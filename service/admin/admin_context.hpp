// AdminContext: what the admin routes read — the runtime, the config, readiness, collectors.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "auth_token.hpp"
#include "loopvisor/config/daemon_config.hpp"
#include "loopvisor/supervisor.hpp"

namespace loopvisor::service {

class AdminMetrics;
class ConfigReload;
class JobRegistry;

/// Whether the daemon takes new work. Draining starts on SIGTERM and never ends.
///
/// Thread safety: any thread.
class Readiness {
 public:
  void start_draining() noexcept { draining_.store(true, std::memory_order_relaxed); }  // sync: a flag
  bool draining() const noexcept { return draining_.load(std::memory_order_relaxed); }  // sync: a flag

 private:
  std::atomic<bool> draining_{false};
};

/// Shared by every admin connection; outlives the admin server. The supervisor and readiness
/// are owned by the daemon (or a test) and outlive it too.
struct AdminContext {
  Supervisor* supervisor = nullptr;
  Readiness* readiness = nullptr;
  /// The job API's registry; null when [jobs] enabled = false (/v1/jobs answers 404).
  JobRegistry* jobs = nullptr;
  config::AdminConfig admin;
  /// The bearer token in force, shared with the daemon's ConfigReload, which replaces it on a
  /// reload. Null: admin.auth_token is the token (AdminServer then makes one from it).
  std::shared_ptr<AuthToken> auth_token;

  /// The token to check a request against now (empty: none is required).
  std::shared_ptr<const std::string> current_token() const {
    return auth_token ? auth_token->get() : std::make_shared<const std::string>(admin.auth_token);
  }
  /// POST /admin/reload; null: the route answers 404 (no reload in this setup).
  ConfigReload* reload = nullptr;
  config::MetricsConfig metrics;
  /// Counts every answer when set (and is then usually among the collectors too).
  std::shared_ptr<AdminMetrics> admin_metrics;
  /// Scraped in order by GET /metrics; empty when metrics are off.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectors;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  /// How long /debug/tasks waits for a loop's task list before reporting it unanswered.
  std::chrono::milliseconds loop_answer_timeout = std::chrono::seconds(1);
};

/// The collectors loopvisord serves: the runtime's, and process_* unless switched off. Empty
/// when metrics are off.
std::vector<std::shared_ptr<prometheus::Collectable>> default_collectors(
    const Supervisor& supervisor, const config::MetricsConfig& metrics);

}  // namespace loopvisor::service
