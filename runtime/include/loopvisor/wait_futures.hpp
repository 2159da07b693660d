// wait_futures, wait_all, wait_any: a plain thread waits on many ThreadFutures at once
// (concurrent.futures.wait).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "loopvisor/return_when.hpp"
#include "loopvisor/thread_future.hpp"

namespace loopvisor {

/// What wait_futures returns: the futures that ended and those still pending, each in the
/// order given (a future given twice counts once).
template <class T>
struct FutureWaitResult {
  std::vector<ThreadFuture<T>> done;
  std::vector<ThreadFuture<T>> not_done;
};

namespace detail {
/// Blocks until `when` holds over `states` or `timeout` passes. Throws WrongThreadError if the
/// calling loop must complete one of the pending futures (it would wait for itself).
void wait_states(const std::vector<std::shared_ptr<FutureStateBase>>& states, ReturnWhen when,
                 std::optional<std::chrono::steady_clock::duration> timeout);
}  // namespace detail

/// concurrent.futures.wait(futures, timeout, return_when): blocks the calling thread until
/// `when` holds or `timeout` passes (nullopt: no limit), then returns (done, not_done). A
/// timeout cancels nothing. An empty list returns at once. Reads no result: an exception is
/// still reported as never retrieved unless get() or exception() reads it.
///
/// Thread safety: any thread, except a loop that must complete one of the pending futures
/// (WrongThreadError; co_await them instead).
template <class T>
[[nodiscard]] FutureWaitResult<T> wait_futures(
    std::vector<ThreadFuture<T>> futures, ReturnWhen when = ReturnWhen::all_completed,
    std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt) {
  std::vector<ThreadFuture<T>> distinct;
  std::vector<std::shared_ptr<detail::FutureStateBase>> states;
  for (auto& f : futures) {
    if (!f.valid())
      throw InvalidStateError("wait_futures: a future has no state (default-constructed or moved from)");
    bool seen = false;
    for (auto& s : states) seen = seen || s == detail::state_of(f);
    if (seen) continue;
    states.push_back(detail::state_of(f));
    distinct.push_back(std::move(f));
  }
  detail::wait_states(states, when, timeout);
  FutureWaitResult<T> result;
  for (auto& f : distinct) (f.done() ? result.done : result.not_done).push_back(std::move(f));
  return result;
}

/// Blocks until every future has ended or `timeout` passes.
template <class T>
[[nodiscard]] FutureWaitResult<T> wait_all(
    std::vector<ThreadFuture<T>> futures,
    std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt) {
  return wait_futures(std::move(futures), ReturnWhen::all_completed, timeout);
}

/// Blocks until one future has ended or `timeout` passes.
template <class T>
[[nodiscard]] FutureWaitResult<T> wait_any(
    std::vector<ThreadFuture<T>> futures,
    std::optional<std::chrono::steady_clock::duration> timeout = std::nullopt) {
  return wait_futures(std::move(futures), ReturnWhen::first_completed, timeout);
}

}  // namespace loopvisor
