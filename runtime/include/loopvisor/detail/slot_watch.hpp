// SlotWatch: a completion handler that watches its own cancellation slot until it completes.
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <utility>

namespace loopvisor::detail {

/// Holds the handler an operation completes and, from watch() until it lets go, a cancellation
/// handler of the operation's in that handler's slot. Such an operation needs no slot of its
/// own (nor the allocation of one): a cancel of the awaiter reaches it directly.
///
/// The slot belongs to the awaiter's cancellation state, which the handler keeps alive: this
/// lets go of the slot before the handler goes, whether it completes (release_slot(), then
/// the handler) or is destroyed unrun (its executor shut down with it queued). The owner says
/// which executor and allocator it has: one that names an executor is dispatched through it
/// by asio::post, an extra step a completion posted to that same executor does not need.
template <class Handler>
class SlotWatch {
 public:
  explicit SlotWatch(Handler handler) : handler_(std::move(handler)) {}
  SlotWatch(SlotWatch&& other) noexcept
      : handler_(std::move(other.handler_)), watching_(std::exchange(other.watching_, false)) {}
  SlotWatch& operator=(SlotWatch&&) = delete;
  ~SlotWatch() { release_slot(); }

  /// Puts `Watcher(args...)` in the handler's slot and returns it, or null when the handler
  /// has no slot. The watcher stays where it is until release_slot().
  template <class Watcher, class... Args>
  Watcher* watch(Args&&... args) {
    auto slot = boost::asio::get_associated_cancellation_slot(handler_);
    if (!slot.is_connected()) return nullptr;
    Watcher& watcher = slot.template emplace<Watcher>(std::forward<Args>(args)...);
    watching_ = true;
    return &watcher;
  }

  /// Removes the watcher (completing may end the awaiting task and free its cancellation
  /// state, so this comes first).
  void release_slot() noexcept {
    if (std::exchange(watching_, false)) boost::asio::get_associated_cancellation_slot(handler_).clear();
  }

  Handler& handler() noexcept { return handler_; }
  const Handler& handler() const noexcept { return handler_; }

 private:
  Handler handler_;
  bool watching_ = false;
};

}  // namespace loopvisor::detail
