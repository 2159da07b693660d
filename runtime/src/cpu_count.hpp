// The parts of process_cpu_count, apart so tests can give them a fake cgroup tree.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>

namespace loopvisor::detail {

/// CPUs in the calling thread's affinity mask; nullopt if the kernel will not say.
std::optional<std::size_t> affinity_cpu_count() noexcept;

/// The CPU limit, in whole CPUs rounded up, of the cgroup v2 named in `proc_self_cgroup` (the
/// format of /proc/self/cgroup, "0::/path"): the tightest `cpu.max` from that cgroup up to
/// `cgroup_mount`. nullopt when there is no limit, no cgroup v2 entry, or the files cannot be
/// read or make no sense (a limit is never invented).
std::optional<std::size_t> cgroup_cpu_limit(const std::filesystem::path& cgroup_mount,
                                            const std::filesystem::path& proc_self_cgroup) noexcept;

}  // namespace loopvisor::detail
