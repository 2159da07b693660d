// Daemon: composes the runtime and the control thread into loopvisord; holds no runtime logic.
#pragma once

#include <chrono>
#include <cstddef>

#include "loopvisor/supervisor.hpp"

namespace loopvisor::service {

struct DaemonOptions {
  SupervisorOptions runtime;
  std::chrono::milliseconds shutdown_grace = std::chrono::seconds(10);
};

/// Runs until SIGTERM/SIGINT, then shuts the supervisor down gracefully. Returns the process
/// exit code: 0 after a graceful shutdown.
int run_daemon(const DaemonOptions& options);

}  // namespace loopvisor::service
