// Ticket-based cancellation of queued callbacks.
#include "cancel_registry.hpp"

namespace loopvisor::detail {

bool CancelRegistry::cancel(std::uint64_t ticket) noexcept {
  lock_guard guard(mu_);
  if (closed_) return false;
  try {
    if (!cancelled_.insert(ticket).second) return false;  // cancelled before
  } catch (...) {
    return false;  // out of memory: report "not cancelled", the callback will run
  }
  pending_.store(cancelled_.size(), std::memory_order_seq_cst);
  if (claimed_.load(std::memory_order_seq_cst) > ticket) {
    // The loop claimed it before seeing our mark: too late, it runs.
    cancelled_.erase(ticket);
    pending_.store(cancelled_.size(), std::memory_order_seq_cst);
    return false;
  }
  return true;
}

bool CancelRegistry::take(std::uint64_t ticket) noexcept {
  lock_guard guard(mu_);
  if (cancelled_.erase(ticket) == 0) return false;
  pending_.store(cancelled_.size(), std::memory_order_seq_cst);
  return true;
}

void CancelRegistry::close() noexcept {
  lock_guard guard(mu_);
  closed_ = true;
  cancelled_.clear();
  pending_.store(0, std::memory_order_seq_cst);
}

}  // namespace loopvisor::detail
