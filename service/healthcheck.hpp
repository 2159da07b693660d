// Healthcheck: `loopvisord healthcheck` asks a running daemon's /healthz (Docker HEALTHCHECK
// needs no curl in the image).
#pragma once

#include <chrono>

#include "loopvisor/config/daemon_config.hpp"

namespace loopvisor::service {

/// GET /healthz on `admin.listen` (a wildcard host is asked on loopback). Returns 0 when it
/// answers 200 within `timeout`, 1 otherwise, saying why on stderr.
int run_healthcheck(const config::AdminConfig& admin,
                    std::chrono::milliseconds timeout = std::chrono::seconds(3));

}  // namespace loopvisor::service
