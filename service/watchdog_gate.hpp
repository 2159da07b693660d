// WatchdogGate: whether loopvisord may send systemd its WATCHDOG=1 ping — only while it answers.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "loopvisor/supervisor.hpp"

namespace loopvisor::service {

class AdminServer;

/// Why the daemon does not answer, or nullopt if it does: every loop runs and is not stalled,
/// the loop watchdog still probes them, and the admin thread (when there is one) ran its
/// heartbeat within `admin_limit`. The systemd watchdog ping is sent only while this is
/// nullopt, so systemd restarts a daemon that is alive but no longer serving (WatchdogSec).
std::optional<std::string> why_not_answering(const Supervisor& supervisor, const AdminServer* admin,
                                             std::chrono::milliseconds admin_limit);

}  // namespace loopvisor::service
