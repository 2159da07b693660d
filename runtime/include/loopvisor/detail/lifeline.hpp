// Lifeline<T>: a non-owning reference that its target cuts when it goes, safe to use from any thread.
#pragma once

#include <memory>

#include "loopvisor/detail/sync.hpp"

namespace loopvisor::detail {

/// Held through a shared_ptr by observers that must not keep the target alive (a metrics
/// collector the Exposer holds) and by the target, which calls `cut()` first thing in its
/// destructor. `with(fn)` runs `fn(target)` under the lifeline's lock, so the target cannot
/// finish destruction while `fn` runs; after the cut it runs nothing and returns false.
///
/// Thread safety: every member from any thread.
template <class T>
class Lifeline {
 public:
  explicit Lifeline(const T* target) noexcept : target_(target) {}

  void cut() noexcept {
    lock_guard g(mu_);
    target_ = nullptr;
  }

  template <class F>
  bool with(F&& fn) const {
    lock_guard g(mu_);
    if (target_ == nullptr) return false;
    fn(*target_);
    return true;
  }

 private:
  mutable mutex mu_;
  const T* target_;  // guarded by mu_; null once cut
};

}  // namespace loopvisor::detail
