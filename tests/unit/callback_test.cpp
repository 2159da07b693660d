// detail::Callback: inline and heap storage, move-only callables, destruction.
#include "loopvisor/detail/callback.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>

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

}  // namespace
}  // namespace loopvisor::detail
