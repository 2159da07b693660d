// Waiting for a set of children, the core of gather.
#include "loopvisor/gather.hpp"

namespace loopvisor::detail {

namespace {
// asyncio: once a gather has failed, the later failures of its children are reported to
// nobody, but they count as seen (no "never retrieved").
void mark_rest_retrieved(const CompletionWatch& watch) {
  for (const auto& child : watch.children) {
    if (child->is_terminal()) {
      child->mark_retrieved();
    } else {
      child->add_hook([raw = child.get()] { raw->mark_retrieved(); });
    }
  }
}
}  // namespace

boost::asio::awaitable<void> await_children(std::vector<std::shared_ptr<TaskBase>> children, bool fail_fast) {
  auto watch = CompletionWatch::watch(children);
  for (;;) {
    for (; watch->seen < watch->finished.size(); ++watch->seen) {
      auto& child = watch->children[watch->finished[watch->seen]];
      if (!fail_fast) continue;
      // The first failure in time propagates; the other children keep running.
      if (auto e = child->retrieve_exception()) {
        mark_rest_retrieved(*watch);
        std::rethrow_exception(e);
      }
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
      watch->cancel_pending(current_cancel_message());
      std::rethrow_exception(self_cancelled);
    }
  }
}

}  // namespace loopvisor::detail
