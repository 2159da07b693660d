// detail::Callback: inline and heap storage, move-only callables, destruction.
#include "loopvisor/detail/callback.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace loopvisor::detail {
namespace {

TEST(Callback, RunsASmallCallableStoredInline) {
  int hits = 0;
  Callback cb([&hits] { ++hits; });
  ASSERT_TRUE(cb);
  cb();
  cb();
  EXPECT_EQ(hits, 2);
}

TEST(Callback, RunsALargeCallableStoredOnTheHeap) {
  std::array<int, 64> big{};
  big[63] = 5;
  int seen = 0;
  Callback cb([big, &seen] { seen = big[63]; });
  Callback moved(std::move(cb));
  EXPECT_FALSE(cb);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  moved();
  EXPECT_EQ(seen, 5);
}

TEST(Callback, AcceptsMoveOnlyCallablesAndDestroysThemOnce) {
  auto counter = std::make_shared<int>(0);
  std::weak_ptr<int> watch = counter;
  {
    Callback cb([p = std::make_unique<std::shared_ptr<int>>(std::move(counter))] { ++**p; });
    cb();
    Callback other;
    other = std::move(cb);
    other();
    EXPECT_EQ(*watch.lock(), 2);
  }
  EXPECT_TRUE(watch.expired());
}

TEST(Callback, ResetDestroysTheCallable) {
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  Callback cb([t = std::move(token)] {});
  cb.reset();
  EXPECT_FALSE(cb);
  EXPECT_TRUE(watch.expired());
}

// consume() runs the callable and destroys it in one call, also when the call throws: the
// drain runs each inbox callback that way, in its queue cell.
TEST(Callback, ConsumeRunsThenDestroysEvenWhenTheCallableThrows) {
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  int hits = 0;
  Callback small([t = std::move(token), &hits] { ++hits; });
  small.consume();
  EXPECT_EQ(hits, 1);
  EXPECT_FALSE(small);
  EXPECT_TRUE(watch.expired());

  token = std::make_shared<int>(2);
  watch = token;
  Callback throwing([t = std::move(token)] { throw std::runtime_error("from the call"); });
  EXPECT_THROW(throwing.consume(), std::runtime_error);
  EXPECT_FALSE(throwing);
  EXPECT_TRUE(watch.expired());

  token = std::make_shared<int>(3);
  watch = token;
  std::array<int, 64> big{};
  Callback large([t = std::move(token), big] { throw std::runtime_error(std::to_string(big[0])); });
  EXPECT_THROW(large.consume(), std::runtime_error);
  EXPECT_FALSE(large);
  EXPECT_TRUE(watch.expired()) << "the heap-held callable was not deleted";
}

/// A capture whose destructor throws (declared noexcept(false)): only a callable held on the
/// heap may have one, and deleting it reports the exception instead of terminating.
struct ThrowsOnDestruction {
  explicit ThrowsOnDestruction(int* d) : destroyed(d) {}
  ThrowsOnDestruction(ThrowsOnDestruction&& other) noexcept
      : destroyed(other.destroyed), armed(std::exchange(other.armed, false)) {}
  ~ThrowsOnDestruction() noexcept(false) {
    if (!armed) return;
    ++*destroyed;
    throw std::runtime_error("from the destructor");
  }
  int* destroyed;
  bool armed = true;
};

TEST(Callback, ConsumeOfACallThatThrowsAndACaptureWhoseDestructorThrowsPassesOnTheCallsError) {
  int destroyed = 0;
  Callback cb([state = ThrowsOnDestruction(&destroyed)] {
    (void)state;
    throw std::logic_error("from the call");
  });
  EXPECT_THROW(cb.consume(), std::logic_error);  // the destructor's error is reported, not thrown
  EXPECT_FALSE(cb);
  EXPECT_EQ(destroyed, 1);
}

}  // namespace
}  // namespace loopvisor::detail
