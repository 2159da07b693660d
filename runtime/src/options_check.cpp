// Range checks of LoopOptions, BlockingPoolOptions and SupervisorOptions.
#include "options_check.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <stdexcept>

namespace loopvisor::detail {

namespace {

constexpr std::size_t max_queue_capacity = std::size_t{1} << 30;
constexpr std::size_t max_drain_batch = std::size_t{1} << 20;
constexpr std::size_t max_threads = 4096;

void in_range(const char* field, std::size_t value, std::size_t low, std::size_t high) {
  if (value < low || value > high) {
    throw std::invalid_argument(
        fmt::format("{} = {} is out of range (allowed: {} to {})", field, value, low, high));
  }
}

void not_negative(const char* field, std::chrono::milliseconds value) {
  if (value.count() < 0) {
    throw std::invalid_argument(fmt::format("{} = {} ms is negative", field, value.count()));
  }
}

void spin_in_range(const char* field, std::chrono::microseconds value) {
  if (value.count() < 0 || value > std::chrono::seconds(1)) {
    throw std::invalid_argument(
        fmt::format("{} = {} us is out of range (allowed: 0, off, to 1000000)", field, value.count()));
  }
}

}  // namespace

void check_options(const LoopOptions& o) {
  in_range("LoopOptions::submit_queue_capacity", o.submit_queue_capacity, 0, max_queue_capacity);
  in_range("LoopOptions::drain_batch", o.drain_batch, 0, max_drain_batch);
  in_range("LoopOptions::blocking_threads", o.blocking_threads, 0, max_threads);
  not_negative("LoopOptions::slow_callback_threshold", o.slow_callback_threshold);
  spin_in_range("LoopOptions::spin_before_park", o.spin_before_park);
}

void check_options(const BlockingPoolOptions& o) {
  in_range("BlockingPoolOptions::threads", o.threads, 0, max_threads);
  in_range("BlockingPoolOptions::max_pending", o.max_pending, 1, max_queue_capacity);
}

void check_options(const SupervisorOptions& o) {
  in_range("SupervisorOptions::loops", o.loops, 0, max_threads);
  in_range("SupervisorOptions::submit_queue_capacity", o.submit_queue_capacity, 0, max_queue_capacity);
  in_range("SupervisorOptions::drain_batch", o.drain_batch, 0, max_drain_batch);
  in_range("SupervisorOptions::blocking_threads", o.blocking_threads, 0, max_threads);
  in_range("SupervisorOptions::blocking_max_pending", o.blocking_max_pending, 1, max_queue_capacity);
  not_negative("SupervisorOptions::shutdown_grace", o.shutdown_grace);
  not_negative("SupervisorOptions::cancel_timeout", o.cancel_timeout);
  not_negative("SupervisorOptions::slow_callback_threshold", o.slow_callback_threshold);
  spin_in_range("SupervisorOptions::spin_before_park", o.spin_before_park);
  if (o.blocking_join_timeout)
    not_negative("SupervisorOptions::blocking_join_timeout", *o.blocking_join_timeout);
  not_negative("SupervisorOptions::watchdog.interval", o.watchdog.interval);
  not_negative("SupervisorOptions::watchdog.stall_threshold", o.watchdog.stall_threshold);
}

}  // namespace loopvisor::detail
