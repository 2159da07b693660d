// Atomics and mutexes used by loopvisor, in one place so a checking build can swap them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <new>

namespace loopvisor::detail {

template <class T>
using atomic = std::atomic<T>;
using mutex = std::mutex;
using condition_variable = std::condition_variable;
using lock_guard = std::lock_guard<std::mutex>;
using unique_lock = std::unique_lock<std::mutex>;

/// One iteration of a spin-wait: tells the CPU this is a busy loop (x86 PAUSE), which saves
/// power and frees the core's resources for its sibling hyperthread.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// A cache line: hot fields written by different threads live on separate lines so that one
// thread's writes do not invalidate the line another thread is reading.
inline constexpr std::size_t cache_line = 64;

/// A counter with exactly one writer (its loop) and any number of readers (metrics, stats).
/// Increments are a plain load and store, not a locked read-modify-write.
class OwnedCounter {
 public:
  void add(std::uint64_t n = 1) noexcept {
    // sync: single writer; readers only need an eventually-consistent value.
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(std::uint64_t v) noexcept {
    // sync: single writer; readers only need an eventually-consistent value.
    value_.store(v, std::memory_order_relaxed);
  }
  std::uint64_t get() const noexcept {
    // sync: pairs with nothing; a snapshot for stats.
    return value_.load(std::memory_order_relaxed);
  }

 private:
  atomic<std::uint64_t> value_{0};
};

}  // namespace loopvisor::detail
