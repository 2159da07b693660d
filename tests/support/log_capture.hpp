// LogCapture: spdlog's default logger replaced, for the scope, by one that keeps every line in
// memory; read from any thread (the sink's own mutex orders the reads after the writes).
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace loopvisor::test {

class LogCapture {
 public:
  explicit LogCapture(spdlog::level::level_enum level = spdlog::level::info)
      : previous_(spdlog::default_logger()), previous_level_(spdlog::get_level()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink_));
    spdlog::set_level(level);
  }
  ~LogCapture() {
    spdlog::set_default_logger(previous_);
    spdlog::set_level(previous_level_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// Every line logged so far, "[level] message".
  std::vector<std::string> lines() const { return sink_->lines(); }
  /// The lines that contain `part`.
  std::vector<std::string> matching(const std::string& part) const {
    std::vector<std::string> out;
    for (auto& line : lines())
      if (line.find(part) != std::string::npos) out.push_back(line);
    return out;
  }
  /// Everything logged so far, one line after another.
  std::string text() const {
    std::string out;
    for (const auto& line : lines()) out += line + "\n";
    return out;
  }

 private:
  class Sink : public spdlog::sinks::base_sink<std::mutex> {
   public:
    std::vector<std::string> lines() {
      std::lock_guard lock(mutex_);
      return lines_;
    }

   protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      lines_.push_back(fmt::format("[{}] {}", spdlog::level::to_string_view(msg.level),
                                   std::string_view(msg.payload.data(), msg.payload.size())));
    }
    void flush_() override {}

   private:
    std::vector<std::string> lines_;  // guarded by mutex_
  };

  std::shared_ptr<Sink> sink_ = std::make_shared<Sink>();
  std::shared_ptr<spdlog::logger> previous_;
  spdlog::level::level_enum previous_level_;
};

}  // namespace loopvisor::test
