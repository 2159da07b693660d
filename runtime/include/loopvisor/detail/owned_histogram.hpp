// OwnedHistogram: a histogram of durations with one writer thread and any number of readers.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

#include "loopvisor/detail/sync.hpp"

namespace loopvisor::detail {

/// Counts of observations per bucket (upper bounds in seconds, then +Inf), their number and
/// their sum. One thread observes (a loop's own thread); readers (stats, metrics) take relaxed
/// snapshots, so a scrape may see an observation in its bucket before the count or sum moves.
template <std::size_t N>
class OwnedHistogram {
 public:
  explicit constexpr OwnedHistogram(const std::array<double, N>& bounds) noexcept : bounds_(bounds) {}

  void observe(std::chrono::nanoseconds took) noexcept {
    const double seconds = std::chrono::duration<double>(took).count();
    std::size_t i = 0;
    while (i < N && seconds > bounds_[i]) ++i;
    buckets_[i].add();
    count_.add();
    // Nanoseconds, to stay an integer.
    sum_ns_.add(static_cast<std::uint64_t>(took.count() > 0 ? took.count() : 0));
  }

  const std::array<double, N>& bounds() const noexcept { return bounds_; }
  /// Observations in bucket `i` alone (not cumulative); bucket N is the one above every bound.
  std::uint64_t bucket(std::size_t i) const noexcept { return buckets_[i].get(); }
  std::uint64_t count() const noexcept { return count_.get(); }
  double sum_seconds() const noexcept { return static_cast<double>(sum_ns_.get()) / 1e9; }

 private:
  const std::array<double, N> bounds_;
  std::array<OwnedCounter, N + 1> buckets_{};
  OwnedCounter count_;
  OwnedCounter sum_ns_;
};

}  // namespace loopvisor::detail
