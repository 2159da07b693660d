// Wake-up of a sleeping loop: at most one drain request in flight, whatever the producer count.
#pragma once

#include "loopvisor/detail/sync.hpp"

namespace loopvisor::detail {

/// Producers call `needed()` after pushing an item; it returns true for exactly one of
/// them until the consumer calls `rearm()`, and that one posts a drain to the loop. The
/// consumer calls `rearm()` when it finds the inbox empty, then asks the inbox whether any
/// position was claimed past its head (SubmitQueue::claimed_past_head) and, if so,
/// `reclaim()`s the drain.
///
/// No fence on the producer's path. Producer: claim a position (an acquire RMW on the
/// queue's tail), then read the flag. Consumer: clear the flag, then read the tail with a
/// release RMW. All writes to the tail are RMWs, so the two are ordered by the tail's
/// modification order: if the consumer's RMW comes first, it synchronizes with the
/// producer's claim and the producer reads the cleared flag (or a later producer's set, and
/// that producer posts); if the producer's claim comes first, the consumer sees the claimed
/// position and reclaims the drain. Either way, no wake-up is lost.
///
/// Thread safety: `needed` from any thread after a claim; `rearm`/`reclaim` from the consumer.
class Wakeup {
 public:
  bool needed() noexcept {
    // sync: relaxed; ordered after the consumer's clear through the queue's tail (see above).
    if (pending_.load(std::memory_order_relaxed)) return false;
    // sync: acq_rel; only one producer flips the flag.
    return !pending_.exchange(true, std::memory_order_acq_rel);
  }

  /// The consumer is about to look at the inbox for the last time this turn.
  void rearm() noexcept {
    // sync: relaxed; published by the consumer's release RMW on the tail that follows.
    pending_.store(false, std::memory_order_relaxed);
  }

  /// True while a drain is posted and not yet finished: for the loop's spin-before-park,
  /// which watches for it instead of sleeping.
  bool posted() const noexcept {
    // sync: relaxed; a hint — the drain itself is a posted handler, poll() runs it.
    return pending_.load(std::memory_order_relaxed);
  }

  /// The consumer found a claim after rearm(): take the flag back if no producer did, so a
  /// drain is scheduled exactly when needed. Returns true if this consumer now owns the drain.
  bool reclaim() noexcept {
    // sync: acq_rel; races only with producers' exchange in needed().
    return !pending_.exchange(true, std::memory_order_acq_rel);
  }

 private:
  alignas(cache_line) atomic<bool> pending_{false};
};

}  // namespace loopvisor::detail
