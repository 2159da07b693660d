// Waiting for a set of children, the core of gather.
#include "loopvisor/gather.hpp"

namespace loopvisor::detail {

boost::asio::awaitable<void> await_children(std::vector<std::shared_ptr<TaskBase>> children, bool fail_fast) {
  auto watch = CompletionWatch::watch(children);
  for (;;) {
    for (; watch->seen < watch->finished.size(); ++watch->seen) {
      auto& child = watch->children[watch->finished[watch->seen]];
      if (!fail_fast) continue;
      // The first failure in time propagates; the other children keep running.
      if (auto e = child->retrieve_exception()) std::rethrow_exception(e);
    }
    if (watch->all_done()) co_return;
    std::exception_ptr self_cancelled;
    try {
      co_await watch->next();
    } catch (...) {
      self_cancelled = std::current_exception();
    }
    if (self_cancelled) {
      // The gather itself was cancelled: cancel every child that has not ended.
      watch->cancel_pending();
      std::rethrow_exception(self_cancelled);
    }
  }
}

}  // namespace loopvisor::detail
