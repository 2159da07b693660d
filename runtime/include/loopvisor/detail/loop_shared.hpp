// The part of a loop that outlives it: identity, exception reporting and control posts.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <limits>
#include <memory>
#include <string>

#include "loopvisor/detail/callback.hpp"
#include "loopvisor/detail/owned_histogram.hpp"
#include "loopvisor/detail/sync.hpp"
#include "loopvisor/exception_context.hpp"

namespace boost::asio {
class io_context;
}

namespace loopvisor {
class Loop;
}

namespace loopvisor::detail {

/// Tasks, futures and handles keep a shared_ptr to this instead of a raw Loop*, so a
/// diagnostic raised after the loop is gone (a task handle dropped late, a future cancelled
/// after shutdown) is still reported, and a control post to a dead loop fails cleanly.
///
/// Thread safety: every member is safe from any thread.
class LoopShared {
 public:
  LoopShared(std::size_t index, std::string name) : index_(index), name_(std::move(name)) {}

  std::size_t index() const noexcept { return index_; }
  const std::string& name() const noexcept { return name_; }

  void set_exception_handler(ExceptionHandler handler);

  /// Fills in the loop fields, counts the report, and calls the handler (or logs). Never throws.
  void report(ExceptionContext context) noexcept;
  std::uint64_t unhandled_exceptions() const noexcept {
    return unhandled_.load(std::memory_order_relaxed);  // sync: a statistic
  }

  /// Slow-callback detection (asyncio's debug slow_callback_duration): a callback or task step
  /// holding the loop longer than the threshold is logged with its name and counted. Zero
  /// turns it off. Any thread, at any time (a configuration reload); a step already being
  /// measured may be judged by either value.
  void set_slow_threshold(std::chrono::nanoseconds threshold) noexcept {
    // sync: relaxed; a setting read on its own.
    slow_threshold_ns_.store(threshold.count(), std::memory_order_relaxed);
  }
  std::chrono::nanoseconds slow_threshold() const noexcept {
    // sync: relaxed; see set_slow_threshold.
    return std::chrono::nanoseconds(slow_threshold_ns_.load(std::memory_order_relaxed));
  }
  /// Whether `took` is over the threshold, read once: false while the check is off, including
  /// when it was turned off while the step ran.
  bool is_slow(std::chrono::nanoseconds took) const noexcept {
    const auto threshold = slow_threshold();
    return threshold.count() > 0 && took > threshold;
  }
  /// On the loop thread: `what` held the loop `took`, over the threshold. Logs, and counts it
  /// in slow_durations().
  void report_slow(const std::string& what, std::chrono::nanoseconds took) noexcept;
  /// Upper bounds (seconds) of the slow-callback duration buckets; a final +Inf bucket follows.
  /// From 5 ms (the threshold can be that low) up to a minute.
  static constexpr std::array<double, 13> slow_bucket_bounds{0.005, 0.01, 0.025, 0.05, 0.1,  0.25, 0.5,
                                                             1.0,   2.5,  5.0,   10.0, 30.0, 60.0};
  /// How long each slow callback or task step held the loop.
  const OwnedHistogram<slow_bucket_bounds.size()>& slow_durations() const noexcept { return slow_; }

  /// Spin-before-park (LoopOptions::spin_before_park): how long the loop, and a thread
  /// blocked on one of its ThreadFutures, polls before sleeping in the kernel. Zero: off.
  /// Set before the loop runs.
  void set_spin_budget(std::chrono::nanoseconds budget) noexcept { spin_budget_ = budget; }
  std::chrono::nanoseconds spin_budget() const noexcept { return spin_budget_; }
  std::uint64_t slow_callbacks() const noexcept { return slow_.count(); }

  /// Busy time: wall time the loop spent running callbacks, timer callbacks and task steps
  /// (the rest it waited for work). Written by the loop thread only, through BusyScope.
  void add_busy(std::chrono::nanoseconds took) noexcept {
    busy_ns_.add(static_cast<std::uint64_t>(took.count()));
  }
  std::chrono::nanoseconds busy() const noexcept {
    return std::chrono::nanoseconds(static_cast<std::int64_t>(busy_ns_.get()));
  }
  /// The outermost BusyScope started at `start` (0: none is running).
  void set_busy_since(std::int64_t start_ns) noexcept {
    // sync: relaxed; a gauge for the watchdog, ordering nothing.
    busy_since_ns_.store(start_ns, std::memory_order_relaxed);
  }
  /// busy() plus the part of a callback or step still running at `now`, so a loop stuck in
  /// one step reads busy. Approximate at the instant a step ends (it may count that step
  /// twice or not at all): for gauges like the busy ratio, not for the monotonic counter.
  std::chrono::nanoseconds busy_including_current(std::chrono::steady_clock::time_point now) const noexcept {
    // sync: relaxed; see set_busy_since.
    const auto since = busy_since_ns_.load(std::memory_order_relaxed);
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    const auto running = since == 0 ? 0 : now_ns - since;
    return busy() + std::chrono::nanoseconds(running > 0 ? running : 0);
  }

  /// Posts `fn` to the loop outside the bounded inbox. Used for cancellation and completion
  /// delivery, which must never be rejected for capacity. Returns false (and destroys `fn`
  /// here) once the loop has been destroyed.
  bool post_control(Callback fn);

  /// The loop whose thread this is, or null.
  static LoopShared* current() noexcept;
  bool is_current() const noexcept { return current() == this; }
  Loop* owner() const noexcept { return owner_; }

  // Used by Loop only.
  void attach(Loop* owner, boost::asio::io_context* io) noexcept;
  void detach() noexcept;
  static LoopShared* exchange_current(LoopShared* next) noexcept;

 private:
  const std::size_t index_;
  const std::string name_;
  mutable mutex mu_;
  boost::asio::io_context* io_ = nullptr;  // guarded by mu_
  Loop* owner_ = nullptr;                  // set before the loop is shared, cleared at destruction
  ExceptionHandler handler_;               // guarded by mu_
  atomic<std::uint64_t> unhandled_{0};
  OwnedHistogram<slow_bucket_bounds.size()> slow_{slow_bucket_bounds};  // the loop thread writes it
  OwnedCounter busy_ns_;
  atomic<std::int64_t> busy_since_ns_{0};  // steady_clock ns; written by the loop thread
  std::chrono::nanoseconds spin_budget_{0};
  atomic<std::int64_t> slow_threshold_ns_{0};
};

/// Adds the wall time of its scope to the loop's busy time. Only the outermost scope on a
/// thread measures (a task step run inline inside a callback counts once); `loop` null or a
/// nested scope costs one thread-local read. Two steady-clock reads per outermost scope: the
/// drain loop wraps a whole batch of callbacks in one.
class BusyScope {
 public:
  explicit BusyScope(LoopShared* loop) noexcept;
  ~BusyScope();
  BusyScope(const BusyScope&) = delete;
  bool measuring() const noexcept { return loop_ != nullptr; }
  /// Ends the measurement now and returns the time it measured (zero if not measuring); the
  /// destructor then adds nothing. Lets a caller reuse this clock read for its own timing.
  std::chrono::nanoseconds end() noexcept;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  LoopShared* loop_;  // null: not measuring
  std::chrono::steady_clock::time_point start_{};
};

/// CLOCK_MONOTONIC_COARSE: a few nanoseconds to read, millisecond resolution — enough to catch
/// a 100 ms stall on every callback without slowing the fast path.
std::chrono::nanoseconds coarse_now() noexcept;

/// Measures consecutive callbacks on the loop thread (a lap ends where the next begins) and
/// reports each slow lap; what a batch drain uses. While callbacks are quick it reads the clock
/// once every `quick_stride` callbacks, not after each: a clock read per callback was 13 % of
/// the instructions of a thread → loop callback (W1). A lap that had any measurable time (one
/// tick of the coarse clock) makes the next laps one callback long again, so in a run of slow
/// callbacks all but the first are timed one by one. What a strided lap costs: a slow callback in it is
/// reported with the quick ones around it included (microseconds, against a millisecond clock), and callbacks
/// each under the threshold that together pass it in one lap are reported as one slow lap naming how many
/// callbacks it covered. The destructor ends the last lap.
class SlowLaps {
 public:
  static constexpr unsigned quick_stride = 16;

  explicit SlowLaps(LoopShared* loop) noexcept
      : loop_(loop != nullptr && loop->slow_threshold().count() > 0 ? loop : nullptr) {
    if (loop_ != nullptr) {
      mark_ = coarse_now();
      countdown_ = 1;
    }
  }
  ~SlowLaps() {
    if (loop_ != nullptr && pending() > 0) end_lap();
  }
  /// A callback just ran and ended. (Not measuring, the countdown never reaches zero: a batch
  /// holds far fewer callbacks.)
  void lap() noexcept {
    if (--countdown_ == 0) end_lap();
  }
  SlowLaps(const SlowLaps&) = delete;
  SlowLaps& operator=(const SlowLaps&) = delete;

 private:
  unsigned pending() const noexcept { return stride_ - countdown_; }  // callbacks in the lap
  void end_lap() noexcept;

  LoopShared* loop_;  // null: not measuring
  std::chrono::nanoseconds mark_{0};
  unsigned stride_ = 1;  // callbacks per lap: 1 until a lap shows they are quick
  unsigned countdown_ = std::numeric_limits<unsigned>::max();  // callbacks left in the lap
};

/// Measures one callback or task step on the loop thread; reports it if it was slow.
class SlowScope {
 public:
  SlowScope(LoopShared* loop, const char* what) noexcept
      : loop_(loop != nullptr && loop->slow_threshold().count() > 0 ? loop : nullptr), what_(what) {
    if (loop_ != nullptr) start_ = coarse_now();
  }
  ~SlowScope() {
    if (loop_ == nullptr) return;
    const auto took = coarse_now() - start_;
    if (loop_->is_slow(took)) loop_->report_slow(what_, took);
  }
  SlowScope(const SlowScope&) = delete;
  SlowScope& operator=(const SlowScope&) = delete;

 private:
  LoopShared* loop_;
  const char* what_;
  std::chrono::nanoseconds start_{};
};

}  // namespace loopvisor::detail
