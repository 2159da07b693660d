// ConfigReload: load, compare key by key, apply the live keys, report the rest.
#include "reload.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <set>
#include <stdexcept>

#include "admin/auth_token.hpp"
#include "jobs/job_registry.hpp"
#include "loopvisor/config/schema.hpp"

namespace loopvisor::service {

namespace {

/// Keys a reload applies at once; every other changed key needs a restart.
bool is_live(const config::Setting& s) {
  static const std::set<std::string, std::less<>> live = {
      "log.level", "admin.auth_token_file", "runtime.slow_callback_ms", "watchdog.stall_threshold_ms"};
  return live.contains(s.name()) || (s.section == "jobs" && s.key != "enabled");
}

prometheus::MetricFamily gauge(std::string name, std::string help, double value) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric m;
  m.gauge.value = value;
  family.metric.push_back(std::move(m));
  return family;
}

}  // namespace

ConfigReload::ConfigReload(config::DaemonConfig running, Loader load, ReloadTargets targets)
    : running_(std::move(running)), load_(std::move(load)), targets_(std::move(targets)) {}

config::DaemonConfig ConfigReload::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

std::string ConfigReload::set_log_level(std::string_view level, std::string_view trigger) {
  const config::Setting* setting = config::find_setting("log", "level");
  std::lock_guard lock(mu_);
  config::DaemonConfig next = running_;
  try {
    setting->set_text(next, level);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("log level '{}': {} ({})", level, e.what(), setting->allowed));
  }
  std::string previous = running_.log_level;
  // Logged before the change, under the level the operator was reading (a level above warn
  // would hide it otherwise).
  spdlog::warn("log level ({}): {} -> {}", trigger, previous, next.log_level);
  if (targets_.set_log_level) targets_.set_log_level(next.log_level);
  running_.log_level = next.log_level;
  return previous;
}

ReloadOutcome ConfigReload::reload(std::string_view trigger) {
  std::lock_guard lock(mu_);
  ReloadOutcome outcome;
  try {
    outcome = apply(load_().config);
  } catch (const std::exception& e) {
    outcome.ok = false;
    outcome.error = e.what();
  }
  last_ok_ = outcome.ok;
  if (!outcome.ok) {
    spdlog::error("config reload ({}) refused; the running configuration stays as it was: {}", trigger,
                  outcome.error);
    return outcome;
  }
  last_success_ = std::chrono::system_clock::now();
  for (const auto& line : outcome.applied) spdlog::info("config reload ({}): {}", trigger, line);
  for (const auto& line : outcome.needs_restart) spdlog::warn("config reload ({}): {}", trigger, line);
  if (outcome.applied.empty() && outcome.needs_restart.empty()) {
    spdlog::info("config reload ({}): nothing changed", trigger);
  }
  return outcome;
}

ReloadOutcome ConfigReload::apply(const config::DaemonConfig& loaded) {
  ReloadOutcome outcome;
  // The watchdog keeps its running interval until a restart, so a new stall threshold must
  // exceed that interval, not just the one in the new file.
  if (loaded.runtime.watchdog.interval.count() > 0 && running_.runtime.watchdog.interval.count() > 0 &&
      loaded.runtime.watchdog.stall_threshold <= running_.runtime.watchdog.interval) {
    throw std::invalid_argument(fmt::format(
        "watchdog.stall_threshold_ms = {} must exceed the running watchdog.interval_ms = {}",
        loaded.runtime.watchdog.stall_threshold.count(), running_.runtime.watchdog.interval.count()));
  }
  for (const auto& s : config::settings()) {
    const auto before = s.print(running_);
    const auto after = s.print(loaded);
    const bool token_changed =
        s.name() == "admin.auth_token_file" && loaded.admin.auth_token != running_.admin.auth_token;
    if (before == after && !token_changed) continue;
    if (!is_live(s)) {
      outcome.needs_restart.push_back(
          fmt::format("{} = {} needs a restart to take effect; keeping {}", s.name(), after, before));
    } else if (token_changed && before == after) {
      outcome.applied.push_back(fmt::format("{}: the token in {} changed", s.name(), after));
    } else {
      outcome.applied.push_back(fmt::format("{}: {} -> {}", s.name(), before, after));
    }
  }
  // Everything checked: apply (none of these can fail on a loaded configuration).
  config::DaemonConfig next = running_;
  next.log_level = loaded.log_level;
  next.admin.auth_token_file = loaded.admin.auth_token_file;
  next.admin.auth_token = loaded.admin.auth_token;
  next.runtime.slow_callback_threshold = loaded.runtime.slow_callback_threshold;
  next.runtime.watchdog.stall_threshold = loaded.runtime.watchdog.stall_threshold;
  const bool jobs_enabled = next.jobs.enabled;
  next.jobs = loaded.jobs;
  next.jobs.enabled = jobs_enabled;

  if (targets_.set_log_level && next.log_level != running_.log_level) targets_.set_log_level(next.log_level);
  if (targets_.auth_token && next.admin.auth_token != running_.admin.auth_token) {
    targets_.auth_token->set(next.admin.auth_token);
  }
  if (targets_.supervisor != nullptr) {
    targets_.supervisor->set_slow_callback_threshold(next.runtime.slow_callback_threshold);
    targets_.supervisor->set_stall_threshold(next.runtime.watchdog.stall_threshold);
  }
  if (targets_.jobs != nullptr) targets_.jobs->set_config(next.jobs);
  running_ = std::move(next);
  outcome.ok = true;
  return outcome;
}

std::vector<prometheus::MetricFamily> ConfigReload::Collect() const {
  std::lock_guard lock(mu_);
  std::vector<prometheus::MetricFamily> out;
  out.push_back(gauge("loopvisor_config_last_reload_successful",
                      "Whether the last configuration reload succeeded (1) or was refused (0)",
                      last_ok_ ? 1.0 : 0.0));
  out.push_back(gauge("loopvisor_config_last_reload_success_timestamp_seconds",
                      "Unix time of the last successful configuration load (start or reload)",
                      std::chrono::duration<double>(last_success_.time_since_epoch()).count()));
  return out;
}

}  // namespace loopvisor::service
