// Daemon: the main thread watches signals, the admin thread serves HTTP, the supervisor works.
#include "daemon.hpp"

#include <csignal>
#include <cstdlib>
#include <optional>
#include <thread>

#include <time.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>

#include "admin/admin_metrics.hpp"
#include "admin/admin_server.hpp"
#include "jobs/job_metrics.hpp"
#include "jobs/job_registry.hpp"
#include "loopvisor/spdlog_sink.hpp"
#include "loopvisor/version.hpp"
#include "signals.hpp"
#include "systemd_notify.hpp"
#include "watchdog_gate.hpp"

namespace loopvisor::service {

namespace {
// CLOCK_MONOTONIC in microseconds, for sd_notify's MONOTONIC_USEC (systemd.service(5)).
long long monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}
}  // namespace

SupervisorOptions supervisor_options(const config::RuntimeConfig& runtime) {
  SupervisorOptions o;
  o.loops = runtime.loops;
  o.submit_queue_capacity = runtime.submit_queue_capacity;
  o.placement = runtime.placement;
  o.cpu_affinity = runtime.cpu_affinity;
  o.slow_callback_threshold = runtime.slow_callback_threshold;
  o.spin_before_park = runtime.spin_before_park;
  o.blocking_threads = runtime.blocking_threads;
  o.blocking_max_pending = runtime.blocking_max_pending;
  o.watchdog = runtime.watchdog;
  return o;
}

int run_daemon(const config::DaemonConfig& config, ConfigReload::Loader reload_source) {
  // Signals are watched on this (main) thread's context, registered before anything starts,
  // so an early SIGTERM is queued, not fatal; its handler runs once signal_context.run() starts.
  boost::asio::io_context signal_context(1);
  spdlog::info("loopvisord {} starting (pid {})", LOOPVISOR_VERSION, ::getpid());

  const SystemdNotify systemd;  // no-op unless started by systemd with Type=notify
  Readiness readiness;
  std::optional<Supervisor> supervisor_slot;
  // Declared before the admin server, so routes never outlive it.
  std::optional<JobRegistry> jobs;
  std::shared_ptr<ConfigReload> reload;  // after what it changes, before the admin server using it
  std::thread stopper;
  // SIGHUP reloads (its default action would kill the daemon and every job). Watched from
  // here on; handled once signal_context runs, when everything below exists.
  boost::asio::signal_set hangup(signal_context, SIGHUP);
  std::function<void()> watch_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;  // cancelled at exit
      if (readiness.draining()) {
        spdlog::warn("received SIGHUP while shutting down: no reload");
      } else {
        systemd.notify(fmt::format("RELOADING=1\nMONOTONIC_USEC={}", monotonic_usec()));
        const auto outcome = reload->reload("SIGHUP");
        systemd.notify(outcome.ok ? "READY=1\nSTATUS=configuration reloaded"
                                  : "READY=1\nSTATUS=configuration reload refused; running as before");
      }
      watch_hangup();
    });
  };
  watch_hangup();
  ShutdownSignals signals(
      signal_context,
      [&](int signal) {
        readiness.start_draining();
        systemd.notify("STOPPING=1");
        spdlog::info(
            "received signal {}: not ready any more; shutting down gracefully in {} ms (grace {} ms); send "
            "it "
            "again to exit at once",
            signal, config.shutdown_readiness_delay.count(), config.shutdown_grace.count());
        // Shut down off this thread so a second signal can still be handled.
        stopper = std::thread([&] {
          std::this_thread::sleep_for(config.shutdown_readiness_delay);  // load balancers see /readyz fail
          const auto jobs_before = jobs ? std::optional(jobs->counts()) : std::nullopt;
          const auto report = supervisor_slot->shutdown(config.shutdown_grace);
          // The report counts tasks (a job may run several); jobs are counted apart.
          spdlog::info("shutdown complete: runtime {}", report.to_string());
          if (jobs_before)
            spdlog::info("shutdown complete: {}", describe_jobs_between(*jobs_before, jobs->counts()));
          boost::asio::post(signal_context, [&] {
            signals.cancel();
            boost::system::error_code ignored;
            hangup.cancel(ignored);
            signal_context.stop();
          });
        });
      },
      [](int signal) {
        spdlog::warn("received signal {} again: exiting immediately", signal);
        spdlog::default_logger()->flush();
        std::_Exit(128 + signal);
      });
  Supervisor& supervisor = supervisor_slot.emplace(supervisor_options(config.runtime));
  for (const auto& s : supervisor.stats()) {
    spdlog::info("loop {} '{}' running, submission queue capacity {}", s.index, s.name, s.queue_capacity);
  }
  auto auth_token = std::make_shared<AuthToken>(config.admin.auth_token);
  ReloadTargets targets;
  targets.supervisor = &supervisor;
  targets.auth_token = auth_token;
  targets.set_log_level = [](const std::string& name) {
    const auto level = spdlog::level::from_str(name);
    spdlog::set_level(level);
    loopvisor::set_log_level(log_level_of(level));
  };
  if (config.admin.enabled && config.jobs.enabled)
    targets.jobs = &jobs.emplace(supervisor, config.jobs, instance_name(config.admin.instance));
  if (!reload_source) reload_source = [config] { return config::LoadedConfig{config, {}, {}}; };
  reload = std::make_shared<ConfigReload>(config, std::move(reload_source), std::move(targets));
  std::optional<AdminServer> admin;
  if (config.admin.enabled) {
    AdminContext context;
    context.auth_token = auth_token;
    context.reload = reload.get();
    context.supervisor = &supervisor;
    context.readiness = &readiness;
    context.admin = config.admin;
    context.metrics = config.metrics;
    context.collectors = default_collectors(supervisor, config.metrics);
    context.admin_metrics = std::make_shared<AdminMetrics>();
    if (config.metrics.enabled) {
      context.collectors.push_back(context.admin_metrics);
      context.collectors.push_back(reload);
    }
    if (config.jobs.enabled) {
      context.jobs = &*jobs;
      if (config.metrics.enabled) context.collectors.push_back(std::make_shared<JobMetrics>(*jobs));
      spdlog::info("job API on /v1/jobs: at most {} active; exec {}", config.jobs.max_active,
                   config.jobs.exec_allow.empty()
                       ? std::string("off (no [jobs] exec_allow)")
                       : fmt::format("allowed for {}", fmt::join(config.jobs.exec_allow, ", ")));
    }
    admin.emplace(std::move(context));
  } else {
    spdlog::info("admin server off ([admin] enabled = false): no /metrics, /healthz or /readyz");
  }
  spdlog::info("loopvisord ready: {} loop(s); SIGTERM or SIGINT to stop", supervisor.size());
  systemd.notify(fmt::format("READY=1\nSTATUS=serving with {} loop(s)", supervisor.size()));
  // systemd's WatchdogSec: pinged from this thread, which also handles the signals, and only
  // while every loop and the admin thread answer (a daemon alive but frozen gets restarted).
  boost::asio::steady_timer watchdog_ping(signal_context);
  std::optional<std::string> withheld;  // why pings are withheld, while they are
  std::function<void()> ping = [&] {
    const auto why = why_not_answering(supervisor, admin ? &*admin : nullptr, std::chrono::seconds(3));
    if (!why) {
      if (withheld) {
        spdlog::info("systemd watchdog: every loop and the admin thread answer again; pings resume");
        systemd.notify(fmt::format("STATUS=serving with {} loop(s)", supervisor.size()));
        withheld.reset();
      }
      systemd.notify("WATCHDOG=1");
    } else if (!withheld) {  // logged once per outage, not once per ping
      spdlog::error(
          "systemd watchdog: withholding pings: {} (systemd restarts the service after WatchdogSec)", *why);
      systemd.notify("STATUS=withholding watchdog pings: " + *why);
      withheld = why;
    }
    watchdog_ping.expires_after(*systemd.watchdog_interval());
    watchdog_ping.async_wait([&](boost::system::error_code ec) {
      if (!ec) ping();
    });
  };
  if (systemd.watchdog_interval()) ping();
  signal_context.run();
  if (stopper.joinable()) stopper.join();
  admin.reset();  // after the supervisor has shut down: /readyz said 503 all along
  spdlog::info("loopvisord exiting");
  return EXIT_SUCCESS;
}

}  // namespace loopvisor::service
