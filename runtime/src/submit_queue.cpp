// The loop's inbox: bounded lock-free multi-producer queue.
#include "submit_queue.hpp"

#include <bit>
#include <thread>

namespace loopvisor::detail {

SubmitQueue::SubmitQueue(std::size_t capacity)
    : cells_(new Cell[std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity)]),
      mask_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1) {
  for (std::size_t i = 0; i <= mask_; ++i) {
    // sync: before the queue is shared; publication is by the owner's construction.
    cells_[i].sequence.store(i, std::memory_order_relaxed);
  }
}

SubmitQueue::~SubmitQueue() = default;

SubmitQueue::PushResult SubmitQueue::try_push(Callback& fn, std::uint64_t& ticket) noexcept {
  // sync: relaxed; the cell's sequence (acquire below) is what orders access to the cell.
  std::uint64_t pos = tail_.load(std::memory_order_relaxed);
  for (;;) {
    if ((pos & closed_bit) != 0) return PushResult::closed;
    Cell& cell = cells_[pos & mask_];
    // sync: acquire pairs with the consumer's release store in pop(): the slot is free.
    const std::uint64_t seq = cell.sequence.load(std::memory_order_acquire);
    const auto diff = static_cast<std::int64_t>(seq - pos);
    if (diff == 0) {
      // sync: acquire on success synchronizes with claimed_past_head()'s release RMW (the
      // Wakeup protocol); the cell itself is published by the release store below.
      if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        cell.fn = std::move(fn);
        // sync: release pairs with the consumer's acquire in pop()/ready(): fn is visible.
        cell.sequence.store(pos + 1, std::memory_order_release);
        ticket = pos;
        return PushResult::ok;
      }
    } else if (diff < 0) {
      // The cell still holds the item from one lap ago: the queue is full. Re-read the tail
      // once, as close() may have set its bit meanwhile (closed wins over full).
      // sync: relaxed; only the closed bit is of interest.
      const std::uint64_t now = tail_.load(std::memory_order_relaxed);
      return (now & closed_bit) != 0 ? PushResult::closed : PushResult::full;
    } else {
      // sync: relaxed; another producer took pos, retry from the new tail.
      pos = tail_.load(std::memory_order_relaxed);
    }
  }
}

bool SubmitQueue::claimed_past_head() noexcept {
  // sync: acq_rel RMW (not a load): later claims read from its release sequence.
  const std::uint64_t tail = tail_.fetch_add(0, std::memory_order_acq_rel) & ~closed_bit;
  return tail != head_;
}

bool SubmitQueue::pop(Callback& out, std::uint64_t& ticket) noexcept {
  Cell& cell = cells_[head_ & mask_];
  // sync: acquire pairs with the producer's release in try_push(): fn is fully written.
  if (cell.sequence.load(std::memory_order_acquire) != head_ + 1) return false;
  out = std::move(cell.fn);
  ticket = head_;
  // sync: release pairs with the producers' acquire in try_push(): the slot is free again.
  cell.sequence.store(head_ + mask_ + 1, std::memory_order_release);
  ++head_;
  return true;
}

std::size_t SubmitQueue::ready(std::size_t max) const noexcept {
  std::size_t n = 0;
  // sync: acquire pairs with the producer's release in try_push(): each counted fn is written.
  while (n < max && cells_[(head_ + n) & mask_].sequence.load(std::memory_order_acquire) == head_ + n + 1)
    ++n;
  return n;
}

std::uint64_t SubmitQueue::close() noexcept {
  return tail_.fetch_or(closed_bit, std::memory_order_seq_cst) & ~closed_bit;
}

bool SubmitQueue::closed() const noexcept {
  return (tail_.load(std::memory_order_seq_cst) & closed_bit) != 0;
}

bool SubmitQueue::drained() const noexcept {
  const std::uint64_t tail = tail_.load(std::memory_order_seq_cst);
  return (tail & closed_bit) != 0 && head_ == (tail & ~closed_bit);
}

std::size_t SubmitQueue::depth() const noexcept {
  // sync: relaxed snapshots; depth is a gauge, exactness is not promised.
  const std::uint64_t tail = tail_.load(std::memory_order_relaxed) & ~closed_bit;
  const std::uint64_t head = retired_.load(std::memory_order_relaxed);
  return tail > head ? static_cast<std::size_t>(tail - head) : 0;
}

}  // namespace loopvisor::detail
