// LoopHealth: a loop's scheduling lag and stalled flag, written by probes, read by anyone.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "loopvisor/detail/owned_histogram.hpp"
#include "loopvisor/detail/sync.hpp"

namespace loopvisor::detail {

/// The watchdog's view of one loop. The probe (on the loop thread) is the only writer of the
/// lag fields and histogram; the watchdog thread the only writer of `stalled` and of the lag
/// of a probe still pending. Readers (stats, metrics) take relaxed snapshots.
class LoopHealth {
 public:
  /// Upper bounds (seconds) of the lag histogram buckets; a final +Inf bucket follows.
  /// Up to a minute: a stall's probe, answered late, lands in a bucket that says how long.
  static constexpr std::array<double, 13> bucket_bounds{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1,
                                                        0.5,    1.0,    5.0,   10.0,  30.0, 60.0};

  /// On the loop: the probe numbered `seq` ran, `lag` after it was posted.
  void answer(std::uint64_t seq, std::chrono::steady_clock::duration lag) noexcept {
    lag_.observe(std::chrono::duration_cast<std::chrono::nanoseconds>(lag));
    // sync: relaxed; a gauge.
    last_lag_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(lag).count(),
                       std::memory_order_relaxed);
    // sync: release pairs with the watchdog's acquire: the probe has run.
    answered.store(seq, std::memory_order_release);
  }

  /// Watchdog: a probe still waiting `lag` (shows a stall's growing lag before it ends).
  void record_pending_lag(std::chrono::steady_clock::duration lag) noexcept {
    // sync: relaxed; a gauge.
    last_lag_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(lag).count(),
                       std::memory_order_relaxed);
  }

  /// Watchdog: each transition to stalled is counted, so a stall that starts and ends between
  /// two scrapes still shows (in the counter, where the flag would miss it).
  void set_stalled(bool stalled) noexcept {
    // sync: relaxed; a flag for readers, ordering nothing.
    if (stalled && !stalled_.exchange(true, std::memory_order_relaxed)) stalls_.add();
    if (!stalled) stalled_.store(false, std::memory_order_relaxed);
  }
  std::uint64_t stalls() const noexcept { return stalls_.get(); }
  bool stalled() const noexcept { return stalled_.load(std::memory_order_relaxed); }  // sync: a flag
  std::chrono::nanoseconds last_lag() const noexcept {
    return std::chrono::nanoseconds(last_lag_ns_.load(std::memory_order_relaxed));  // sync: a gauge
  }
  /// Watchdog: the share of its last interval the loop spent busy, in parts per million.
  void set_busy_ratio(double ratio) noexcept {
    // sync: relaxed; a gauge.
    busy_ppm_.store(static_cast<std::uint32_t>(ratio * 1e6), std::memory_order_relaxed);
  }
  double busy_ratio() const noexcept {
    return static_cast<double>(busy_ppm_.load(std::memory_order_relaxed)) / 1e6;  // sync: a gauge
  }

  /// The lags of the probes the loop answered.
  const OwnedHistogram<bucket_bounds.size()>& lag() const noexcept { return lag_; }

  atomic<std::uint64_t> sent_seq{0};  // watchdog thread only
  atomic<std::uint64_t> answered{0};  // written by the loop, read by the watchdog

 private:
  OwnedHistogram<bucket_bounds.size()> lag_{bucket_bounds};  // the loop thread is its one writer
  atomic<std::int64_t> last_lag_ns_{0};
  atomic<bool> stalled_{false};
  OwnedCounter stalls_;  // the watchdog thread is its one writer
  atomic<std::uint32_t> busy_ppm_{0};
};

}  // namespace loopvisor::detail
