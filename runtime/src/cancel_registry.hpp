// Ticket-based cancellation of queued callbacks: a Handle cancels by ticket, no per-call allocation.
#pragma once

#include <cstdint>
#include <unordered_set>

#include "loopvisor/detail/sync.hpp"
#include "loopvisor/handle.hpp"

namespace loopvisor::detail {

/// Each queued callback gets a ticket (its position in a FIFO sequence). The consumer (the
/// loop) claims tickets before it runs them; `cancel(t)` succeeds only while `t` is unclaimed.
/// Exactly one side wins: either cancel returns true and the loop skips `t`, or cancel returns
/// false and the loop runs it.
///
/// Thread safety: `cancel` from any thread; `claim`/`take` only from the consumer thread.
class CancelRegistry final : public Cancellable {
 public:
  bool cancel(std::uint64_t ticket) noexcept override;

  /// Consumer: tickets below `end` are taken. Returns whether any cancellation is pending, in
  /// which case each claimed ticket must be checked with `take`.
  /// Never moves back: a drain nested in a callback claims from a later head, maybe less far.
  bool claim(std::uint64_t end) noexcept {
    // sync: relaxed; only this thread writes claimed_.
    if (end > claimed_.load(std::memory_order_relaxed)) {
      // sync: seq_cst store then seq_cst load, against cancel()'s seq_cst store of pending_ then
      // load of claimed_ (store-load on both sides: a Dekker pair, so one side sees the other).
      claimed_.store(end, std::memory_order_seq_cst);
    }
    return pending_.load(std::memory_order_seq_cst) != 0;
  }

  /// Consumer: true if `ticket` was cancelled (and forgets it).
  bool take(std::uint64_t ticket) noexcept;

  /// After close every cancel returns false (the loop is gone; nothing is left to prevent).
  void close() noexcept;

 private:
  mutex mu_;
  std::unordered_set<std::uint64_t> cancelled_;
  bool closed_ = false;
  alignas(cache_line) atomic<std::uint64_t> claimed_{0};
  alignas(cache_line) atomic<std::uint64_t> pending_{0};
};

}  // namespace loopvisor::detail
