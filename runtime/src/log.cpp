// set_log_sink and the default sink (stderr, warn and above).
#include "log.hpp"

#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace loopvisor {

namespace {

// sync: relaxed; the level only filters lines, it orders nothing.
std::atomic<int> min_level{static_cast<int>(LogLevel::warn)};
std::mutex sink_mu;
std::shared_ptr<const LogSink> current_sink;  // guarded by sink_mu; null: the default sink

void write_default(LogLevel level, std::string_view message) noexcept {
  try {
    std::string line = "loopvisor: ";
    line += to_string(level);
    line += ": ";
    line += message;
    line += '\n';
    // One write per line, so concurrent lines do not interleave (stderr is unbuffered).
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n <= 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  } catch (...) {
  }
}

}  // namespace

const char* to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::trace:
      return "trace";
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
    case LogLevel::critical:
      return "critical";
    case LogLevel::off:
      return "off";
  }
  return "unknown";
}

void set_log_sink(LogSink sink, LogLevel min) {
  auto next = sink ? std::make_shared<const LogSink>(std::move(sink)) : nullptr;
  {
    std::lock_guard g(sink_mu);
    current_sink.swap(next);
  }
  set_log_level(min);
  // `next` (the previous sink) is released here, outside the lock; a line still being written
  // holds its own reference.
}

void set_log_level(LogLevel min) noexcept {
  min_level.store(static_cast<int>(min), std::memory_order_relaxed);
}

LogLevel log_level() noexcept { return static_cast<LogLevel>(min_level.load(std::memory_order_relaxed)); }

namespace detail {

bool log_enabled(LogLevel level) noexcept {
  return level != LogLevel::off && static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

void log_line(LogLevel level, std::string_view message) noexcept {
  std::shared_ptr<const LogSink> sink;
  {
    std::lock_guard g(sink_mu);
    sink = current_sink;
  }
  if (!sink) {
    write_default(level, message);
    return;
  }
  try {
    (*sink)(level, message);
  } catch (...) {
    // The sink must not throw; a throw is dropped (there is nowhere left to report it).
  }
}

}  // namespace detail
}  // namespace loopvisor
