// LineFormatter and the daemon's stderr logger.
#include "log_format.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <sys/stat.h>

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iterator>

#include "text.hpp"
#include "utc_time.hpp"

namespace loopvisor::service {

namespace {

/// RFC 5424 severities for spdlog's levels.
int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;
    case spdlog::level::info:
      return 6;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::err:
      return 3;
    default:
      return 2;  // critical
  }
}

/// `2026-12-01T07:10:00.123Z` (digits: 3 or 6 of the fraction).
void append_utc(spdlog::memory_buf_t& dest, spdlog::log_clock::time_point when, int digits) {
  const std::string text = utc_timestamp(when, digits);
  dest.append(text.data(), text.data() + text.size());
}

void append_json_string(spdlog::memory_buf_t& dest, std::string_view text) {
  const std::string out = boost::json::serialize(boost::json::string(valid_utf8(text)));
  dest.append(out.data(), out.data() + out.size());
}

}  // namespace

void LineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  if (journald_) fmt::format_to(std::back_inserter(dest), "<{}>", syslog_priority(msg.level));
  const auto level = spdlog::level::to_string_view(msg.level);
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  if (json_) {
    dest.append(std::string_view("{\"ts\":\""));
    append_utc(dest, msg.time, 6);
    fmt::format_to(std::back_inserter(dest),
                   "\",\"level\":\"{}\",\"logger\":", std::string_view(level.data(), level.size()));
    append_json_string(dest, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    dest.append(std::string_view(",\"msg\":"));
    append_json_string(dest, payload);
    fmt::format_to(std::back_inserter(dest), ",\"thread\":{}}}\n", msg.thread_id);
  } else {
    append_utc(dest, msg.time, 3);
    fmt::format_to(std::back_inserter(dest), " [{}] {}\n", std::string_view(level.data(), level.size()),
                   payload);
  }
}

std::unique_ptr<spdlog::formatter> LineFormatter::clone() const {
  return std::make_unique<LineFormatter>(json_, journald_);
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0, inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat st {};
  if (fstat(2, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == device &&
         static_cast<unsigned long long>(st.st_ino) == inode;
}

std::shared_ptr<spdlog::logger> make_daemon_logger(std::string_view format) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(std::make_unique<LineFormatter>(format == "json", stderr_is_journal()));
  return std::make_shared<spdlog::logger>("loopvisord", std::move(sink));
}

}  // namespace loopvisor::service
