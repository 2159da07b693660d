// LogThrottle: one log line per interval for an event that can repeat thousands of times a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace loopvisor::service {

/// Counts occurrences of one kind of event and says when to log: the first occurrence at
/// once, then at most one summary per `interval` carrying how many happened since the last
/// line. An attacker (or an exhausted descriptor table) cannot turn an event into a log flood.
///
/// Thread safety: one thread (the admin thread).
class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::steady_clock::duration interval) : interval_(interval) {}

  /// Records one occurrence; returns how many occurred since the last line (this one
  /// included) when a line is due now, else 0.
  std::uint64_t occurred(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    ++pending_;
    if (logged_once_ && now - last_ < interval_) return 0;
    logged_once_ = true;
    last_ = now;
    const auto n = pending_;
    pending_ = 0;
    return n;
  }

  std::chrono::steady_clock::duration interval() const { return interval_; }

 private:
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point last_{};
  std::uint64_t pending_ = 0;
  bool logged_once_ = false;
};

}  // namespace loopvisor::service
