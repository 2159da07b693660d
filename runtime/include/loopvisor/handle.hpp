// Handle: the cancellable receipt for a scheduled callback (asyncio.Handle / TimerHandle).
#pragma once

#include <cstdint>
#include <memory>

namespace loopvisor {

namespace detail {
/// What a Handle cancels: a loop's ticket registry (call_soon, call_soon_threadsafe) or one
/// timer entry (call_later, call_at).
class Cancellable {
 public:
  virtual ~Cancellable() = default;
  /// Prevents the run of `ticket` if it has not started; returns whether it did.
  virtual bool cancel(std::uint64_t ticket) noexcept = 0;
};
}  // namespace detail

/// Returned by `call_soon`, `call_later`, `call_at` and `call_soon_threadsafe`.
///
/// `cancel()` prevents the callback from running if it has not started yet and returns true;
/// it returns false if the callback already ran, is running, or was cancelled before. After
/// a successful cancel the callable is destroyed on its loop, never run.
///
/// Thread safety: distinct objects safe. Shared objects: `cancel()` is safe from any thread,
/// including after the loop has closed (it then returns false). A default-constructed Handle
/// refers to nothing and `cancel()` returns false.
class Handle {
 public:
  Handle() = default;
  Handle(std::shared_ptr<detail::Cancellable> target, std::uint64_t ticket) noexcept
      : target_(std::move(target)), ticket_(ticket) {}

  bool cancel() noexcept { return target_ != nullptr && target_->cancel(ticket_); }

  /// The position of this callback in its loop's sequence (diagnostics only).
  std::uint64_t ticket() const noexcept { return ticket_; }

 private:
  std::shared_ptr<detail::Cancellable> target_;
  std::uint64_t ticket_ = 0;
};

}  // namespace loopvisor
