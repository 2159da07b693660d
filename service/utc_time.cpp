// UTC timestamps: gmtime_r and an explicit fraction (fmt 9 formats a time_point in local time).
#include "utc_time.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

namespace loopvisor::service {

std::string utc_timestamp(std::chrono::system_clock::time_point when, int digits) {
  const auto since_epoch = when.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - seconds).count();
  const std::time_t t = static_cast<std::time_t>(seconds.count());
  std::tm utc{};
  gmtime_r(&t, &utc);
  if (digits == 6) return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06}Z", utc, micros);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", utc, micros / 1000);
}

}  // namespace loopvisor::service
