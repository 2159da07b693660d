// CompletionTrampoline: completions an operation delivers at once, run one after another.
#include "loopvisor/detail/completion_trampoline.hpp"

#include <cstddef>
#include <utility>
#include <vector>

#include "loopvisor/detail/loop_shared.hpp"
#include "loopvisor/detail/task_executor.hpp"

namespace loopvisor::detail {
namespace {

struct Waiting {
  std::uint64_t task_id;
  Callback completion;
};

// This thread's completions waiting for the running one to return. `running` is true while
// CompletionTrampoline::run is in its loop.
struct Trampoline {
  bool running = false;
  std::vector<Waiting> waiting;
};

thread_local Trampoline tls_trampoline;

void run_as(std::uint64_t task_id, Callback& completion) {
  if (task_id == current_task_id()) {
    completion.consume();
  } else {
    TaskScope scope(task_id);
    completion.consume();
  }
}

// Ends a run: whatever still waits (a completion threw) goes to the loop to run later, as
// the task it continues.
class RunGuard {
 public:
  explicit RunGuard(Trampoline& t) noexcept : t_(t) { t_.running = true; }
  ~RunGuard() {
    t_.running = false;
    if (t_.waiting.empty()) return;
    auto left = std::exchange(t_.waiting, {});
    LoopShared* loop = LoopShared::current();
    for (auto& w : left) {
      if (!w.completion || loop == nullptr) continue;  // no loop: destroyed with `left`
      try {
        loop->post_control(
            Callback([id = w.task_id, fn = std::move(w.completion)]() mutable { run_as(id, fn); }));
      } catch (...) {
        // Out of memory while another error unwinds: the completion is destroyed, and with it
        // its coroutine, which abandons the task it belongs to (reported as such).
      }
    }
  }
  RunGuard(const RunGuard&) = delete;
  RunGuard& operator=(const RunGuard&) = delete;

 private:
  Trampoline& t_;
};

}  // namespace

void CompletionTrampoline::run(std::uint64_t task_id, Callback completion) {
  Trampoline& t = tls_trampoline;
  if (t.running) {
    t.waiting.push_back(Waiting{task_id, std::move(completion)});
    return;
  }
  RunGuard guard(t);
  run_as(task_id, completion);
  // Each completion runs its coroutine to its next suspension, which may add one more.
  for (std::size_t i = 0; i < t.waiting.size(); ++i) {
    Waiting next = std::move(t.waiting[i]);
    run_as(next.task_id, next.completion);
  }
  t.waiting.clear();
}

}  // namespace loopvisor::detail
