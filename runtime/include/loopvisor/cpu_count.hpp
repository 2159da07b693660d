// process_cpu_count: the CPUs this process may really use (affinity mask and cgroup quota).
#pragma once

#include <cstddef>

namespace loopvisor {

/// How many CPUs the calling thread may run on, as Python 3.13's os.process_cpu_count(),
/// further capped by the CPU quota of the process's cgroup (v2 `cpu.max`, the tightest on the
/// path to the root, rounded up): a container limited to 1.5 CPUs on a 64-core node gets 2.
/// At least 1. `SupervisorOptions::loops = 0` starts this many loops.
std::size_t process_cpu_count() noexcept;

}  // namespace loopvisor
