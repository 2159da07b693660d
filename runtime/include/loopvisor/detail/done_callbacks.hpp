// DoneCallbacks: the callbacks and awaiters a task or future schedules when it ends, in order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "loopvisor/detail/callback.hpp"

namespace loopvisor::detail {

/// Registration-ordered list of what runs (scheduled with call_soon) when its owner ends:
/// user callbacks, each with an id for removal, and awaiters (id 0), so an awaiter resumes
/// after the callbacks added before it, as asyncio's ready queue does. Not thread-safe: the
/// owner's loop only.
class DoneCallbacks {
 public:
  /// Appends a user callback; returns its id (never 0).
  std::uint64_t add(Callback fn) {
    const std::uint64_t id = next_id_++;
    entries_.push_back(Entry{std::move(fn), id});
    return id;
  }
  /// The id a callback added after the owner ended gets (it is scheduled at once instead).
  std::uint64_t skip_id() noexcept { return next_id_++; }
  void add_awaiter(Callback fn) { entries_.push_back(Entry{std::move(fn), 0}); }
  /// Removes a user callback not yet taken; true if it was there.
  bool remove(std::uint64_t id) noexcept {
    if (id == 0) return false;
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->id == id) {
        entries_.erase(it);
        return true;
      }
    }
    return false;
  }

  struct Entry {
    Callback fn;
    std::uint64_t id;  // 0: an awaiter
    bool is_awaiter() const noexcept { return id == 0; }
  };
  /// Everything registered, in order; the list is empty afterwards.
  std::vector<Entry> take() noexcept { return std::exchange(entries_, {}); }

 private:
  std::vector<Entry> entries_;
  std::uint64_t next_id_ = 1;
};

}  // namespace loopvisor::detail
