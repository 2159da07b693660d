// The daemon's log lines: text with a UTC timestamp that says so, JSON objects that parse and
// carry ts/level/logger/msg, syslog priority prefixes for journald, and no byte of a message
// that can break a line or the JSON.
#include "log_format.hpp"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <regex>
#include <string>

namespace loopvisor::service {
namespace {

std::string line(const LineFormatter& proto, spdlog::level::level_enum level, std::string_view text) {
  auto formatter = proto.clone();
  spdlog::details::log_msg msg(spdlog::source_loc{}, "loopvisord", level,
                               spdlog::string_view_t(text.data(), text.size()));
  msg.time =
      spdlog::log_clock::time_point(std::chrono::seconds(1764573000) + std::chrono::microseconds(123456));
  spdlog::memory_buf_t out;
  formatter->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(LogFormat, TextLinesCarryAUtcTimestampTheLevelAndTheMessage) {
  const auto text = line(LineFormatter(false, false), spdlog::level::warn, "loop 0 stalled");
  EXPECT_EQ(text, "2025-12-01T07:10:00.123Z [warning] loop 0 stalled\n");
}

TEST(LogFormat, JsonLinesParseAndCarryTheFields) {
  const auto text = line(LineFormatter(true, false), spdlog::level::info, "job 3 \"quoted\"\tdone");
  ASSERT_EQ(text.back(), '\n');
  ASSERT_EQ(text.find('\n'), text.size() - 1) << "one line: " << text;
  const auto value = boost::json::parse(text);
  const auto& o = value.as_object();
  EXPECT_EQ(o.at("ts"), "2025-12-01T07:10:00.123456Z");
  EXPECT_EQ(o.at("level"), "info");
  EXPECT_EQ(o.at("logger"), "loopvisord");
  EXPECT_EQ(o.at("msg"), "job 3 \"quoted\"\tdone");
  EXPECT_TRUE(o.at("thread").is_int64() || o.at("thread").is_uint64());
}

TEST(LogFormat, JsonKeepsEachRecordOnOneLineWhateverTheMessageHolds) {
  const std::string nasty = "a\nb\r\"}\x01 \xFF\xFE end";
  const auto text = line(LineFormatter(true, false), spdlog::level::err, nasty);
  ASSERT_EQ(text.find('\n'), text.size() - 1) << text;
  boost::system::error_code ec;
  const auto value = boost::json::parse(text, ec);
  ASSERT_FALSE(ec) << ec.message() << ": " << text;
  const std::string msg(value.at("msg").as_string());
  EXPECT_EQ(msg.substr(0, 6), "a\nb\r\"}");
  EXPECT_NE(msg.find("\xEF\xBF\xBD"), std::string::npos) << "invalid UTF-8 becomes U+FFFD";
}

TEST(LogFormat, UnderJournaldEachLineStartsWithItsSyslogPriority) {
  const LineFormatter text(false, true);
  EXPECT_EQ(line(text, spdlog::level::debug, "x").substr(0, 3), "<7>");
  EXPECT_EQ(line(text, spdlog::level::info, "x").substr(0, 3), "<6>");
  EXPECT_EQ(line(text, spdlog::level::warn, "x").substr(0, 3), "<4>");
  EXPECT_EQ(line(text, spdlog::level::err, "x").substr(0, 3), "<3>");
  EXPECT_EQ(line(text, spdlog::level::critical, "x").substr(0, 3), "<2>");
  const auto json = line(LineFormatter(true, true), spdlog::level::info, "x");
  ASSERT_EQ(json.substr(0, 3), "<6>");
  EXPECT_NO_THROW((void)boost::json::parse(json.substr(3)));
}

}  // namespace
}  // namespace loopvisor::service
