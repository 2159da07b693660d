// The part of a loop that outlives it: identity, exception reporting and control posts.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "loopvisor/detail/callback.hpp"
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
};

}  // namespace loopvisor::detail
