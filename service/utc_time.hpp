// UTC timestamps in RFC 3339 form, whatever the process's time zone.
#pragma once

#include <chrono>
#include <string>

namespace loopvisor::service {

/// `2026-12-01T07:10:00.123Z`: UTC (gmtime, never the local zone), with `digits` (3 or 6) of
/// the fraction of a second.
std::string utc_timestamp(std::chrono::system_clock::time_point when, int digits = 3);

}  // namespace loopvisor::service
