// The daemon's log lines on stderr: text or JSON, with a syslog priority prefix under journald.
#pragma once

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <string_view>

namespace loopvisor::service {

/// Formats each record as one line:
/// - text: `2026-12-01T07:10:00.123Z [info] message` (UTC, said so by the Z);
/// - json: `{"ts":"2026-12-01T07:10:00.123456Z","level":"info","logger":"loopvisord",
///   "msg":"...","thread":1234}`, the message made valid UTF-8 and escaped;
/// and with `journald`, prefixed by the record's syslog priority (`<6>` for info, `<4>` for
/// warn, ...), which journald strips and keeps as the entry's PRIORITY.
class LineFormatter : public spdlog::formatter {
 public:
  LineFormatter(bool json, bool journald) : json_(json), journald_(journald) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  bool json_;
  bool journald_;
};

/// Whether stderr is connected to the journal: JOURNAL_STREAM (set by systemd for a unit's
/// stdout and stderr) names the device and inode of our stderr.
bool stderr_is_journal();

/// The daemon's logger: stderr, `format` ("text" or "json"), priorities when stderr is the
/// journal. Installed as spdlog's default logger by main.
std::shared_ptr<spdlog::logger> make_daemon_logger(std::string_view format);

}  // namespace loopvisor::service
