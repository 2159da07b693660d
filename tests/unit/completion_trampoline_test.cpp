// detail::CompletionTrampoline: completions delivered at once run one after another, in order,
// on a flat stack, as the task each continues; none is lost when one throws.
#include "loopvisor/detail/completion_trampoline.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "loopvisor/detail/task_executor.hpp"
#include "loopvisor/loop.hpp"
#include "test_support.hpp"

namespace loopvisor::test {
namespace {

using detail::Callback;
using detail::CompletionTrampoline;
using detail::current_task_id;

// Each completion starts the next one, as a coroutine resumed by the await of an ended task
// awaits the next ended task; the stack depth is counted around each.
struct Chain {
  int left = 0;
  int depth = 0;
  int deepest = 0;
  int ran = 0;
  void step() {
    ++depth;
    deepest = std::max(deepest, depth);
    ++ran;
    if (--left > 0) CompletionTrampoline::run(0, Callback([this] { step(); }));
    --depth;
  }
};

TEST(CompletionTrampoline, ACompletionStartedByARunningOneWaitsForItSoTheStackStaysFlat) {
  LoopThread lt;
  auto chain = std::make_shared<Chain>();
  lt->submit([chain] {
      chain->left = 100'000;
      CompletionTrampoline::run(0, Callback([chain] { chain->step(); }));
    }).get(bound);
  EXPECT_EQ(chain->ran, 100'000);
  EXPECT_EQ(chain->deepest, 1) << "a completion ran inside the one that started it";
}

TEST(CompletionTrampoline, WaitingCompletionsRunInOrderEachAsItsTask) {
  LoopThread lt;
  auto seen = std::make_shared<std::vector<std::pair<int, std::uint64_t>>>();
  lt->submit([seen] {
      CompletionTrampoline::run(
          7, Callback([seen] {
            seen->emplace_back(1, current_task_id());
            CompletionTrampoline::run(9, Callback([seen] { seen->emplace_back(2, current_task_id()); }));
            CompletionTrampoline::run(7, Callback([seen] { seen->emplace_back(3, current_task_id()); }));
            seen->emplace_back(0, current_task_id());  // the first one ends before the others start
          }));
      seen->emplace_back(4, current_task_id());
    }).get(bound);
  const std::vector<std::pair<int, std::uint64_t>> want{{1, 7}, {0, 7}, {2, 9}, {3, 7}, {4, 0}};
  EXPECT_EQ(*seen, want);
}

// A completion that throws passes its error to the caller; those waiting behind it run later
// on the loop, in order and as their tasks, rather than being dropped.
TEST(CompletionTrampoline, ThoseWaitingBehindACompletionThatThrowsRunLaterOnTheLoop) {
  LoopThread lt;
  auto seen = std::make_shared<std::vector<std::pair<int, std::uint64_t>>>();
  bool threw = false;
  lt->submit([seen, &threw] {
      try {
        CompletionTrampoline::run(
            0, Callback([seen] {
              CompletionTrampoline::run(0, Callback([] { throw std::runtime_error("second failed"); }));
              CompletionTrampoline::run(5, Callback([seen] { seen->emplace_back(3, current_task_id()); }));
              CompletionTrampoline::run(6, Callback([seen] { seen->emplace_back(4, current_task_id()); }));
              seen->emplace_back(1, current_task_id());
            }));
      } catch (const std::runtime_error& e) {
        threw = std::string(e.what()) == "second failed";
      }
      seen->emplace_back(2, current_task_id());
    }).get(bound);
  EXPECT_TRUE(threw);
  ASSERT_TRUE(eventually([&] { return lt->submit([seen] { return seen->size(); }).get(bound) == 4; }));
  const std::vector<std::pair<int, std::uint64_t>> want{{1, 0}, {2, 0}, {3, 5}, {4, 6}};
  EXPECT_EQ(lt->submit([seen] { return *seen; }).get(bound), want);
  // The trampoline is usable again afterwards: a new run starts at once.
  EXPECT_EQ(lt->submit([] {
                int ran = 0;
                CompletionTrampoline::run(0, Callback([&ran] { ++ran; }));
                return ran;
              }).get(bound),
            1);
}

}  // namespace
}  // namespace loopvisor::test
