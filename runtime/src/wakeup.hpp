// Wake-up of a sleeping loop: at most one drain request in flight, whatever the producer count.
#pragma once

#include "loopvisor/detail/sync.hpp"

namespace loopvisor::detail {

/// Producers call `needed()` after publishing an item; it returns true for exactly one of
/// them until the consumer calls `rearm()`, and that one posts a drain to the loop. The
/// consumer calls `rearm()` when it finds the inbox empty, then checks the inbox once more.
///
/// The producer's publish-then-check and the consumer's clear-then-check are a store-load
/// pair on each side, made safe by a seq_cst fence on each side: either the consumer sees the
/// new item, or the producer sees the flag cleared and posts a new drain. No wake-up is lost.
///
/// Thread safety: `needed` from any thread; `rearm` from the consumer.
class Wakeup {
 public:
  bool needed() noexcept {
    fence_seq_cst();
    // sync: relaxed fast path, ordered by the fence above against rearm()'s fence.
    if (pending_.load(std::memory_order_relaxed)) return false;
    // sync: acq_rel; only one producer flips the flag.
    return !pending_.exchange(true, std::memory_order_acq_rel);
  }

  /// The consumer is about to look at an empty inbox for the last time this turn.
  void rearm() noexcept {
    // sync: relaxed store made visible before the consumer's re-check by the fence.
    pending_.store(false, std::memory_order_relaxed);
    fence_seq_cst();
  }

  /// The consumer found an item after rearm(): take the flag back if no producer did, so a
  /// drain is scheduled exactly when needed. Returns true if this consumer now owns the drain.
  bool reclaim() noexcept {
    // sync: acq_rel; races only with producers' exchange in needed().
    return !pending_.exchange(true, std::memory_order_acq_rel);
  }

 private:
  alignas(cache_line) atomic<bool> pending_{false};
};

}  // namespace loopvisor::detail
