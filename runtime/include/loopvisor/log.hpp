// Where the runtime's own log lines go: a sink the embedder sets, and the level it starts at.
#pragma once

#include <functional>
#include <string_view>

namespace loopvisor {

/// Severity of a runtime log line (the same order as spdlog's levels).
enum class LogLevel : int { trace, debug, info, warn, error, critical, off };

const char* to_string(LogLevel level) noexcept;

/// Receives one log line of the runtime (no trailing newline). Called from any thread,
/// loop threads included and possibly concurrently: it must be thread-safe, quick, and must not
/// throw (a throw is dropped).
using LogSink = std::function<void(LogLevel level, std::string_view message)>;

/// Sends the runtime's log lines at `min_level` and above to `sink` (for example
/// `loopvisor::spdlog_sink(my_logger)` from loopvisor/spdlog_sink.hpp). Any thread, any time;
/// lines already being written finish on the previous sink. An empty `sink` restores the
/// default: one line per message on stderr, "loopvisor: warn: ...". The runtime never writes
/// to spdlog's default logger on its own.
void set_log_sink(LogSink sink, LogLevel min_level = LogLevel::warn);

/// Changes only the level (default: warn, so an embedder sees warnings and errors only).
void set_log_level(LogLevel min_level) noexcept;
LogLevel log_level() noexcept;

}  // namespace loopvisor
