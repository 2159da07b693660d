// The loop's inbox: a bounded lock-free multi-producer queue that rejects at once when full.
#pragma once

#include <cstdint>
#include <memory>

#include "loopvisor/detail/callback.hpp"
#include "loopvisor/detail/sync.hpp"

namespace loopvisor::detail {

/// Bounded MPSC queue after Dmitry Vyukov's bounded MPMC array queue: each cell carries a
/// sequence number that tells producers and the consumer whose turn it is, so producers
/// never wait for each other beyond one CAS on the tail and never block on the consumer.
///
/// The enqueue position doubles as the ticket of the submission (for Handle::cancel) and
/// carries a "closed" bit: `close()` sets it atomically, so after close no producer can claim
/// a position, and every position claimed before close is published shortly after (the
/// producer is between its CAS and its store) and will be drained.
///
/// Capacity is rounded up to a power of two.
///
/// Thread safety: `try_push` from any thread; `pop`/`drained` from the single consumer;
/// `close`, `depth`, `capacity` from any thread.
class SubmitQueue {
 public:
  enum class PushResult { ok, full, closed };

  explicit SubmitQueue(std::size_t capacity);
  ~SubmitQueue();
  SubmitQueue(const SubmitQueue&) = delete;
  SubmitQueue& operator=(const SubmitQueue&) = delete;

  /// On `ok`, `fn` was moved in and `ticket` holds its position; otherwise `fn` is untouched.
  PushResult try_push(Callback& fn, std::uint64_t& ticket) noexcept;

  /// Consumer: moves the next item out. Returns false if none is published yet.
  bool pop(Callback& out, std::uint64_t& ticket) noexcept;

  /// Consumer: how many items from the head are published, counting up to `max`. Those items
  /// can then be run where they lie: `take_front` each in turn, run it, `release` it.
  std::size_t ready(std::size_t max) const noexcept;

  /// Consumer: the item at the head, left in its cell, and the head moved past it (so a drain
  /// nested in running it starts at the next item). Precondition: `ready` counted it.
  Callback& take_front(std::uint64_t& ticket) noexcept {
    ticket = head_;
    return cells_[head_++ & mask_].fn;
  }

  /// Consumer: destroys what is left of the item `take_front` handed out as `ticket` and
  /// frees its cell for producers.
  void release(std::uint64_t ticket) noexcept {
    Cell& cell = cells_[ticket & mask_];
    cell.fn.reset();
    // sync: release pairs with the producers' acquire in try_push(): the slot is free again.
    cell.sequence.store(ticket + mask_ + 1, std::memory_order_release);
  }

  /// Consumer: true if a producer has claimed a position the consumer has not popped (it
  /// may not be published yet). Reads the tail with a release RMW, which orders everything
  /// the consumer did before against every later claim (the Wakeup protocol relies on it).
  bool claimed_past_head() noexcept;

  /// Refuses every later push; returns the number of positions ever claimed.
  std::uint64_t close() noexcept;
  bool closed() const noexcept;

  /// Consumer: closed and every claimed position consumed.
  bool drained() const noexcept;

  /// Consumer: items below `position` have finished running; `depth()` stops counting them.
  /// Popped but not yet retired items still count, so a loop busy with a batch looks busy.
  void retire(std::uint64_t position) noexcept {
    // sync: relaxed; read only for approximate depth.
    retired_.store(position, std::memory_order_relaxed);
  }

  /// Consumer: position of the next item to pop (== tickets taken so far).
  std::uint64_t head() const noexcept { return head_; }

  /// Approximate number of queued items (any thread).
  std::size_t depth() const noexcept;
  std::size_t capacity() const noexcept { return mask_ + 1; }

 private:
  static constexpr std::uint64_t closed_bit = std::uint64_t{1} << 63;

  struct alignas(cache_line) Cell {
    atomic<std::uint64_t> sequence;
    Callback fn;
  };

  std::unique_ptr<Cell[]> cells_;
  std::size_t mask_;
  // Producers contend on tail_; the consumer owns head_. Separate lines keep them apart.
  alignas(cache_line) atomic<std::uint64_t> tail_{0};
  alignas(cache_line) std::uint64_t head_ = 0;
  atomic<std::uint64_t> retired_{0};  // items run to completion, for depth()
};

}  // namespace loopvisor::detail
