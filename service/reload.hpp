// ConfigReload: re-reads the configuration (SIGHUP, POST /admin/reload) and applies what may change live.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include "loopvisor/config/daemon_config.hpp"
#include "loopvisor/config/loader.hpp"
#include "loopvisor/supervisor.hpp"

namespace loopvisor::service {

class AuthToken;
class JobRegistry;

/// Where the settings that change live go. The daemon owns each target and declares it before
/// the ConfigReload, so each outlives it; a null target is skipped.
struct ReloadTargets {
  Supervisor* supervisor = nullptr;  ///< slow-callback and stall thresholds
  JobRegistry* jobs = nullptr;       ///< [jobs] limits, exec allow list and exec settings
  std::shared_ptr<AuthToken> auth_token;
  /// Applies a log level name ("info", "debug", ...) to every logger.
  std::function<void(const std::string&)> set_log_level;
};

/// What one reload did. Each line names the setting, its old and its new value (a token is
/// never shown, only that it changed).
struct ReloadOutcome {
  bool ok = false;
  std::vector<std::string> applied;        ///< changed now
  std::vector<std::string> needs_restart;  ///< changed in the file or environment, old value kept
  std::string error;                       ///< why the reload was refused (ok == false)
};

/// Reloading re-reads every source the daemon started from (file, environment, flags), checks
/// the result as at start, and then:
/// - applies at once what may change live: log.level, admin.auth_token_file (the token is
///   re-read even when the path is the same), runtime.slow_callback_ms,
///   watchdog.stall_threshold_ms and every [jobs] key but `enabled`;
/// - logs every other changed key as needing a restart and keeps its running value;
/// - refuses a configuration that does not load (bad file, bad value): the running one stays
///   whole and the reason is logged and returned.
/// Every applied change is logged key by key.
///
/// As Prometheus itself exports them: `loopvisor_config_last_reload_successful` (1 or 0) and
/// `loopvisor_config_last_reload_success_timestamp_seconds` (start counts as a success).
///
/// Thread safety: any thread; one reload at a time.
class ConfigReload : public prometheus::Collectable {
 public:
  /// Loads the configuration from the daemon's sources; throws config::ConfigError.
  using Loader = std::function<config::LoadedConfig()>;

  ConfigReload(config::DaemonConfig running, Loader load, ReloadTargets targets);

  /// `trigger` names the cause in the log ("SIGHUP", "POST /admin/reload").
  ReloadOutcome reload(std::string_view trigger);

  /// Sets log.level now (PUT /admin/log-level), as a reload of that key would: checked as the
  /// config file's value is, applied to every logger, logged with `trigger`. The next reload
  /// sets the level from the file again. Returns the previous level; throws
  /// std::invalid_argument naming the accepted values for a bad one (nothing changes then).
  std::string set_log_level(std::string_view level, std::string_view trigger);

  /// The configuration in force: live keys as last reloaded, the others as at start.
  config::DaemonConfig running() const;

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  ReloadOutcome apply(const config::DaemonConfig& next);

  mutable std::mutex mu_;  // one reload at a time; guards everything below
  config::DaemonConfig running_;
  Loader load_;
  ReloadTargets targets_;
  bool last_ok_ = true;
  std::chrono::system_clock::time_point last_success_ = std::chrono::system_clock::now();
};

}  // namespace loopvisor::service
