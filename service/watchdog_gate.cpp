// WatchdogGate: the health check behind each systemd watchdog ping.
#include "watchdog_gate.hpp"

#include <fmt/format.h>

#include "admin/admin_server.hpp"

namespace loopvisor::service {

namespace {
long long ms(std::chrono::steady_clock::duration d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}
}  // namespace

std::optional<std::string> why_not_answering(const Supervisor& supervisor, const AdminServer* admin,
                                             std::chrono::milliseconds admin_limit) {
  for (const auto& s : supervisor.stats()) {
    if (!s.running) return fmt::format("loop {} ('{}') is not running", s.index, s.name);
    if (s.stalled) {
      return fmt::format("loop {} ('{}') is stalled ({} ms without running a probe)", s.index, s.name,
                         ms(s.lag));
    }
  }
  const auto threshold = supervisor.stall_threshold();
  if (const auto silence = supervisor.watchdog_silence(); silence && *silence > threshold) {
    return fmt::format("the loop watchdog has not probed the loops for {} ms", ms(*silence));
  }
  if (admin != nullptr) {
    if (const auto silence = admin->silence(); silence > admin_limit) {
      return fmt::format("the admin thread has not run for {} ms", ms(silence));
    }
  }
  return std::nullopt;
}

}  // namespace loopvisor::service
