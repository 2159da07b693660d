// SystemdNotify: sd_notify(3) for Type=notify units — READY=1, STOPPING=1, WATCHDOG=1 — spoken
// directly over $NOTIFY_SOCKET, without libsystemd.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace loopvisor::service {

/// Talks to the service manager when $NOTIFY_SOCKET is set (a path, or "@name" for an
/// abstract socket); every call is a no-op otherwise. `watchdog_interval()` is half of
/// $WATCHDOG_USEC when systemd's watchdog is on for this process ($WATCHDOG_PID unset or ours).
///
/// Thread safety: notify() from any thread.
class SystemdNotify {
 public:
  SystemdNotify();
  ~SystemdNotify();
  SystemdNotify(const SystemdNotify&) = delete;
  SystemdNotify& operator=(const SystemdNotify&) = delete;

  bool enabled() const noexcept { return fd_ >= 0; }
  /// Sends `state` (newline-separated assignments); false when off or the send failed.
  bool notify(std::string_view state) const noexcept;
  std::optional<std::chrono::microseconds> watchdog_interval() const noexcept { return watchdog_interval_; }

 private:
  int fd_ = -1;
  std::string address_;  // sockaddr_un path bytes ('\0' first for an abstract socket)
  std::optional<std::chrono::microseconds> watchdog_interval_;
};

}  // namespace loopvisor::service
