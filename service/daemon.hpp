// Daemon: composes the runtime, the admin server and the signal watcher into loopvisord;
// holds no runtime logic.
#pragma once

#include "loopvisor/config/daemon_config.hpp"
#include "reload.hpp"

#include "loopvisor/supervisor.hpp"

namespace loopvisor::service {

/// The supervisor options `runtime` describes (the rest at SupervisorOptions' defaults).
SupervisorOptions supervisor_options(const config::RuntimeConfig& runtime);

/// Starts the supervisor and the admin server, then runs until SIGTERM/SIGINT: readiness
/// fails first (for shutdown_readiness_delay), then the supervisor shuts down gracefully
/// while the admin server keeps answering. Returns the process exit code: 0 after a graceful
/// shutdown. Throws std::runtime_error when it cannot start (the admin address is taken, ...).
/// SIGHUP and POST /admin/reload reload the configuration through `reload_source` (the same
/// sources as at start; see ConfigReload); without one they reload `config` as it is.
int run_daemon(const config::DaemonConfig& config, ConfigReload::Loader reload_source = {});

}  // namespace loopvisor::service
