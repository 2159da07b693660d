// process_cpu_count: affinity mask (sched_getaffinity) capped by the cgroup v2 cpu.max quota.
#include "loopvisor/cpu_count.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include "cpu_count.hpp"

namespace loopvisor::detail {

namespace {

constexpr std::size_t max_file_bytes = 4096;  // cpu.max and /proc/self/cgroup are one line or a few

std::optional<std::string> read_small_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text(max_file_bytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

std::optional<std::uint64_t> parse_positive(std::string_view text) {
  std::uint64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || value == 0) return std::nullopt;
  return value;
}

/// "max 100000" → nullopt (no limit); "150000 100000" → 2; anything else → nullopt.
std::optional<std::size_t> parse_cpu_max(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto quota = parse_positive(text.substr(0, space));
  const auto period = parse_positive(text.substr(space + 1));
  if (!quota || !period) return std::nullopt;  // "max", or malformed
  return static_cast<std::size_t>(*quota / *period + (*quota % *period != 0 ? 1 : 0));
}

/// The cgroup v2 path ("0::/a/b" → "a/b"), or nullopt if there is no v2 entry.
std::optional<std::filesystem::path> unified_path(std::string_view text) {
  while (!text.empty()) {
    const auto eol = text.find('\n');
    const auto line = text.substr(0, eol);
    if (line.starts_with("0::/")) return std::filesystem::path(line.substr(4)).lexically_normal();
    if (eol == std::string_view::npos) break;
    text.remove_prefix(eol + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::size_t> affinity_cpu_count() noexcept {
  // A fixed cpu_set_t holds 1024 CPUs; larger machines need a bigger set (EINVAL until then).
  for (std::size_t cpus = 1024; cpus <= (std::size_t{1} << 20); cpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(cpus);
    if (set == nullptr) return std::nullopt;
    const std::size_t bytes = CPU_ALLOC_SIZE(cpus);
    CPU_ZERO_S(bytes, set);
    const int rc = ::sched_getaffinity(0, bytes, set);
    const int count = rc == 0 ? CPU_COUNT_S(bytes, set) : 0;
    const int error = errno;
    CPU_FREE(set);
    if (rc == 0) return count > 0 ? std::optional<std::size_t>(count) : std::nullopt;
    if (error != EINVAL) return std::nullopt;
  }
  return std::nullopt;
}

std::optional<std::size_t> cgroup_cpu_limit(const std::filesystem::path& cgroup_mount,
                                            const std::filesystem::path& proc_self_cgroup) noexcept {
  try {
    const auto membership = read_small_file(proc_self_cgroup);
    if (!membership) return std::nullopt;
    auto relative = unified_path(*membership);
    if (!relative) return std::nullopt;
    // Never climb out of the mount: a path with ".." is not a cgroup the kernel would print.
    for (const auto& part : *relative) {
      if (part == "..") return std::nullopt;
    }
    std::optional<std::size_t> tightest;
    for (std::filesystem::path dir = *relative;; dir = dir.parent_path()) {
      if (const auto text = read_small_file(cgroup_mount / dir / "cpu.max")) {
        if (const auto limit = parse_cpu_max(*text)) tightest = std::min(tightest.value_or(*limit), *limit);
      }
      if (dir.empty() || dir == dir.parent_path()) break;
    }
    return tightest;
  } catch (...) {
    return std::nullopt;  // out of memory or a filesystem error: no limit known
  }
}

}  // namespace loopvisor::detail

namespace loopvisor {

std::size_t process_cpu_count() noexcept {
  std::size_t cpus = detail::affinity_cpu_count().value_or(std::max(1u, std::thread::hardware_concurrency()));
  if (const auto limit = detail::cgroup_cpu_limit("/sys/fs/cgroup", "/proc/self/cgroup")) {
    cpus = std::min(cpus, *limit);
  }
  return std::max<std::size_t>(1, cpus);
}

}  // namespace loopvisor
