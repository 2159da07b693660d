// wait_states: the blocking wait behind wait_futures (wait_futures.hpp).
#include "loopvisor/wait_futures.hpp"

#include <condition_variable>
#include <mutex>

#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor::detail {

namespace {

/// Counts ends as the futures' listeners report them; the waiting thread sleeps on `cv`.
/// Shared with every listener, so a wait that timed out leaves nothing dangling.
struct Tally {
  std::mutex mu;
  std::condition_variable cv;
  std::size_t ended = 0;   // guarded by mu
  std::size_t failed = 0;  // guarded by mu: ended with an exception, not cancelled
};

bool satisfied(ReturnWhen when, std::size_t total, std::size_t ended, std::size_t failed) {
  switch (when) {
    case ReturnWhen::first_completed:
      return ended > 0 || total == 0;
    case ReturnWhen::first_exception:
      return failed > 0 || ended == total;
    case ReturnWhen::all_completed:
      return ended == total;
  }
  return true;
}

}  // namespace

void wait_states(const std::vector<std::shared_ptr<FutureStateBase>>& states, ReturnWhen when,
                 std::optional<std::chrono::steady_clock::duration> timeout) {
  const auto started = std::chrono::steady_clock::now();
  for (const auto& s : states) {
    const auto* producer = s->producer();
    if (producer != nullptr && producer->is_current() && s->status() == FutureStateBase::Status::pending) {
      throw WrongThreadError(
          "wait_futures: this loop must complete one of the futures; blocking here would deadlock (co_await "
          "them instead)");
    }
  }
  auto tally = std::make_shared<Tally>();
  for (const auto& s : states) {
    // Runs on the completing thread, or at once here if the future has already ended.
    s->listen([tally, state = std::weak_ptr<FutureStateBase>(s)] {
      const auto st = state.lock();
      const bool failed = st && st->failed();
      {
        std::lock_guard g(tally->mu);
        ++tally->ended;
        if (failed) ++tally->failed;
      }
      tally->cv.notify_all();
    });
  }
  std::unique_lock lock(tally->mu);
  auto done = [&] { return satisfied(when, states.size(), tally->ended, tally->failed); };
  if (timeout.has_value()) {
    tally->cv.wait_until(lock, started + *timeout, done);
  } else {
    tally->cv.wait(lock, done);
  }
}

}  // namespace loopvisor::detail
