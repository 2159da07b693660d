// The runtime's internal logging: formats a line only if its level is enabled, then hands it
// to the sink set with set_log_sink (log.hpp).
#pragma once

#include <fmt/format.h>

#include <string_view>
#include <utility>

#include "loopvisor/log.hpp"

namespace loopvisor::detail {

bool log_enabled(LogLevel level) noexcept;
/// Hands `message` to the current sink; never throws.
void log_line(LogLevel level, std::string_view message) noexcept;

template <class... Args>
void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) noexcept {
  if (!log_enabled(level)) return;
  try {
    log_line(level, fmt::format(format, std::forward<Args>(args)...));
  } catch (...) {
    // Out of memory formatting a log line: drop it.
  }
}

}  // namespace loopvisor::detail
