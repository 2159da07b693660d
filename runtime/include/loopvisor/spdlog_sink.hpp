// spdlog_sink: the runtime's log lines into an spdlog logger of the embedder's choosing.
// Header-only and optional: include it only if your program links spdlog itself.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string_view>
#include <utility>

#include "loopvisor/log.hpp"

namespace loopvisor {

/// A LogSink writing to `logger` at the same level (spdlog loggers are thread-safe unless built
/// on *_st sinks, which a multi-loop runtime must not be given).
inline LogSink spdlog_sink(std::shared_ptr<spdlog::logger> logger) {
  return [logger = std::move(logger)](LogLevel level, std::string_view message) {
    spdlog::level::level_enum as = spdlog::level::off;
    switch (level) {
      case LogLevel::trace:
        as = spdlog::level::trace;
        break;
      case LogLevel::debug:
        as = spdlog::level::debug;
        break;
      case LogLevel::info:
        as = spdlog::level::info;
        break;
      case LogLevel::warn:
        as = spdlog::level::warn;
        break;
      case LogLevel::error:
        as = spdlog::level::err;
        break;
      case LogLevel::critical:
        as = spdlog::level::critical;
        break;
      case LogLevel::off:
        return;
    }
    logger->log(as, "{}", message);
  };
}

/// The LogLevel for an spdlog level (to pass the embedder's level to set_log_sink).
inline LogLevel log_level_of(spdlog::level::level_enum level) noexcept {
  switch (level) {
    case spdlog::level::trace:
      return LogLevel::trace;
    case spdlog::level::debug:
      return LogLevel::debug;
    case spdlog::level::info:
      return LogLevel::info;
    case spdlog::level::warn:
      return LogLevel::warn;
    case spdlog::level::err:
      return LogLevel::error;
    case spdlog::level::critical:
      return LogLevel::critical;
    default:
      return LogLevel::off;
  }
}

}  // namespace loopvisor
