// wait's stopping rules and the timed wait on a set of children.
#include "loopvisor/wait.hpp"

namespace loopvisor::detail {

bool stop_when(ReturnWhen when, const CompletionWatch& watch) {
  switch (when) {
    case ReturnWhen::first_completed:
      return !watch.finished.empty();
    case ReturnWhen::first_exception:
      for (std::size_t i : watch.finished) {
        const auto& child = watch.children[i];
        if (child->status() == TaskStatus::done && child->has_error()) return true;
      }
      return watch.all_done();
    case ReturnWhen::all_completed:
      return watch.all_done();
  }
  return true;
}

boost::asio::awaitable<void> await_condition(std::shared_ptr<CompletionWatch> watch,
                                             bool (*stop)(const CompletionWatch&),
                                             std::optional<std::chrono::steady_clock::duration> timeout) {
  watch->interrupted = false;
  Handle timer;
  if (timeout) {
    timer = Loop::current().call_later(*timeout, [weak = std::weak_ptr<CompletionWatch>(watch)] {
      if (auto w = weak.lock()) w->interrupt();
    });
  }
  try {
    while (!stop(*watch) && !watch->interrupted) co_await watch->wait_change(watch->finished.size());
  } catch (...) {
    timer.cancel();
    throw;
  }
  timer.cancel();
}

}  // namespace loopvisor::detail
