// The loop's timers (call_later/call_at): one Asio timer armed for the earliest of a heap.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "loopvisor/detail/callback.hpp"
#include "loopvisor/detail/sync.hpp"
#include "loopvisor/handle.hpp"

namespace loopvisor::detail {

/// One scheduled callback. States: pending → fired (the loop took it to run) or
/// pending → cancelled (a Handle won). Exactly one transition happens, by CAS.
class TimerEntry final : public Cancellable {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  TimerEntry(time_point deadline, std::uint64_t sequence, Callback fn)
      : deadline_(deadline), sequence_(sequence), fn_(std::move(fn)) {}

  bool cancel(std::uint64_t) noexcept override;
  /// Loop: pending → fired. False if a Handle cancelled it first.
  bool fire() noexcept;

  time_point deadline() const noexcept { return deadline_; }
  std::uint64_t sequence() const noexcept { return sequence_; }
  Callback& fn() noexcept { return fn_; }
  bool is_cancelled() const noexcept;

 private:
  enum : int { pending, fired, cancelled };
  time_point deadline_;
  std::uint64_t sequence_;
  Callback fn_;
  atomic<int> state_{pending};
};

/// Timers ordered by (deadline, insertion order), so equal deadlines run FIFO. Cancelled
/// entries are dropped lazily, and the heap is compacted when they are most of it.
///
/// Thread safety: loop thread only (entries' `cancel` from any thread).
class TimerQueue {
 public:
  using time_point = TimerEntry::time_point;
  using Runner = std::function<void(Callback&)>;

  TimerQueue(boost::asio::io_context& io, Runner run);

  std::shared_ptr<TimerEntry> add(time_point deadline, Callback fn);

  /// Cancels and drops every pending timer; returns how many there were.
  std::size_t cancel_all();

  std::size_t size() const noexcept { return heap_.size(); }

 private:
  void arm();
  void on_expiry();
  void compact();

  boost::asio::steady_timer timer_;
  Runner run_;
  std::vector<std::shared_ptr<TimerEntry>> heap_;
  std::uint64_t next_sequence_ = 0;
  time_point armed_for_ = time_point::max();
};

}  // namespace loopvisor::detail
