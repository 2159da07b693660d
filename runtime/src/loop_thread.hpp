// Naming and CPU pinning of loop threads (Linux; elsewhere these are no-ops).
#pragma once

#include <string>
#include <thread>

#include <boost/thread/thread.hpp>

namespace loopvisor::detail {

/// Names the calling thread (visible in top -H); truncated to 15 characters.
void name_this_thread(const std::string& name) noexcept;

/// Pins `thread` to `cpu`. Throws loopvisor::Error naming the loop and CPU on failure.
void pin_thread(boost::thread& thread, int cpu, const std::string& loop_name);

}  // namespace loopvisor::detail
