// The shared state behind ThreadFuture: an atomic status word, the result, listeners and a cancel hook.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "loopvisor/detail/callback.hpp"
#include "loopvisor/detail/result_signature.hpp"
#include "loopvisor/detail/sync.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor::detail {

class LoopShared;

/// States: pending → done (value or exception set) or pending → cancelled. Terminal states
/// never change. Listeners registered while pending run exactly once, on the thread that makes
/// the transition, after the lock is released; registered later, they run at once on the
/// registering thread.
///
/// The status is one atomic word: reading it, and reading the result once it is done, takes
/// no lock (the result is written before the word is released and never changes after,
/// except a move-only value taken out, which locks). Blocking waits sleep on the word itself
/// (a futex), after spinning for the producer loop's spin budget if it has one; timed waits
/// use the mutex and condition variable. Transitions and listeners take the mutex.
///
/// Thread safety: every member is safe from any thread.
class FutureStateBase {
 public:
  enum class Status { pending, done, cancelled };

  FutureStateBase() = default;
  FutureStateBase(const FutureStateBase&) = delete;
  FutureStateBase& operator=(const FutureStateBase&) = delete;
  /// An exception nobody read (get, exception, co_await) is reported as "never retrieved"
  /// through the producer loop's exception handler (or the log), as for a task.
  virtual ~FutureStateBase();

  Status status() const noexcept {
    // sync: acquire pairs with complete()'s release: a non-pending status makes the result visible.
    return static_cast<Status>(word_.load(std::memory_order_acquire));
  }

  /// pending → cancelled; runs the cancel hook (for example: cancel the task on its loop).
  bool cancel();

  /// Runs `fn` when the state leaves pending (at once if it already has).
  void listen(Callback fn);

  /// Blocks until not pending or until `deadline`; true if not pending.
  bool wait_until(std::chrono::steady_clock::time_point deadline) const;
  void wait() const;

  /// Who completes this future: blocking on it from that loop would deadlock.
  /// Shared ownership: the state may outlive the loop (a future kept after shutdown).
  void set_producer(std::shared_ptr<LoopShared> loop) noexcept { producer_ = std::move(loop); }
  const LoopShared* producer() const noexcept { return producer_.get(); }

  /// The producer's cancel hook, run once if cancel() wins. Set before the future is shared.
  void set_cancel_hook(Callback hook) { cancel_hook_ = std::move(hook); }

  bool set_exception(std::exception_ptr e);

  /// Throws CancelledError if cancelled, rethrows the stored exception. Precondition: not pending.
  void rethrow_if_failed() const;
  /// Keeps `state` alive on the calling thread until the thread's next call (or its end): what
  /// a reader does before rethrowing a future's exception. A reader often drops the future (a
  /// temporary) while the exception unwinds and then reads the exception in a catch block. Its
  /// reference count lives in libsupc++, which ThreadSanitizer does not instrument, so when the
  /// producing loop dropped the last reference after that read, TSan saw the read racing with
  /// the free (CI: Tls.* under load). Kept here, the last reference goes on the reader's thread.
  /// Costs one future state per thread, on the error path only.
  static void keep_for_reader(std::shared_ptr<const FutureStateBase> state) noexcept;
  std::exception_ptr exception_or_null() const;
  /// Done with an exception (not cancelled). Does not count as retrieving it.
  bool failed() const noexcept { return status() == Status::done && error_ != nullptr; }

 protected:
  /// Transition under lock via `set`, then run listeners. Returns false if not pending.
  template <class F>
  bool complete(Status to, F&& set) {
    std::vector<Callback> listeners;
    {
      lock_guard g(mu_);
      if (status() != Status::pending) return false;
      set();
      // sync: release publishes what set() wrote to lock-free readers (status()).
      word_.store(static_cast<int>(to), std::memory_order_release);
      listeners.swap(listeners_);
    }
    cv_.notify_all();    // timed waiters
    word_.notify_all();  // untimed waiters (no system call when nobody waits)
    for (auto& l : listeners) l();
    return true;
  }

  void mark_retrieved() const noexcept {
    // sync: relaxed; read only by the destructor, after every other user is gone.
    retrieved_.store(true, std::memory_order_relaxed);
  }

  mutable mutex mu_;  // transitions, listeners_, cancel_hook_, taking a move-only value
  mutable condition_variable cv_;
  atomic<int> word_{static_cast<int>(Status::pending)};
  std::exception_ptr error_;  // written once, before word_ leaves pending
  std::vector<Callback> listeners_;
  Callback cancel_hook_;
  std::shared_ptr<LoopShared> producer_;
  mutable atomic<bool> retrieved_{false};  // someone read the exception

 private:
  /// Spins up to the producer loop's spin budget (and `deadline`); true if settled meanwhile.
  bool spin_until_settled(std::chrono::steady_clock::time_point deadline) const noexcept;
};

template <class T>
class FutureState final : public FutureStateBase {
 public:
  using Stored = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

  template <class... V>
  bool set_value(V&&... v) {
    return complete(Status::done, [&] { value_.emplace(std::forward<V>(v)...); });
  }

  /// The value: copied if T is copyable (the future can be read many times), else moved out
  /// once. Precondition: done without exception.
  Stored take_value() {
    if constexpr (std::is_copy_constructible_v<Stored>) {
      return *value_;  // immutable once done: no lock
    } else {
      lock_guard g(mu_);
      if (!value_) throw InvalidStateError("the future's move-only result was already taken");
      Stored out = std::move(*value_);
      value_.reset();
      return out;
    }
  }

 private:
  std::optional<Stored> value_;
};

/// Runs `fn()` into `state`: its value, or the exception it throws. Does nothing if the future
/// is no longer pending (cancelled while the job was queued): `fn` then never runs.
template <class R, class F>
void settle_with(FutureState<R>& state, F& fn) noexcept {
  if (state.status() != FutureStateBase::Status::pending) return;
  try {
    if constexpr (std::is_void_v<R>) {
      fn();
      state.set_value();
    } else {
      state.set_value(fn());
    }
  } catch (...) {
    state.set_exception(std::current_exception());
  }
}

}  // namespace loopvisor::detail

namespace loopvisor::detail {
/// Logs a failure of a user callback that has no loop to report to.
void report_callback_failure(const char* where, const char* what) noexcept;
}  // namespace loopvisor::detail
