// detail::CancelRegistry: exactly one of "cancelled" and "ran" wins for every ticket.
#include "cancel_registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace loopvisor::detail {
namespace {

TEST(CancelRegistry, CancelBeforeClaimWinsAndTakeSeesIt) {
  CancelRegistry r;
  EXPECT_TRUE(r.cancel(3));
  EXPECT_FALSE(r.cancel(3)) << "second cancel of the same ticket";
  EXPECT_TRUE(r.claim(4));
  EXPECT_TRUE(r.take(3));
  EXPECT_FALSE(r.take(2));
}

TEST(CancelRegistry, CancelAfterClaimLoses) {
  CancelRegistry r;
  EXPECT_FALSE(r.claim(10));
  EXPECT_FALSE(r.cancel(5));
  EXPECT_TRUE(r.cancel(10));
}

TEST(CancelRegistry, ClosedRegistryCancelsNothing) {
  CancelRegistry r;
  r.close();
  EXPECT_FALSE(r.cancel(0));
}

TEST(CancelRegistry, RacingCancelAndClaimAgreeOnEveryTicket) {
  constexpr std::uint64_t n = 20000;
  CancelRegistry r;
  std::vector<std::atomic<int>> cancel_won(n);
  std::thread canceller([&] {
    for (std::uint64_t t = 0; t < n; ++t) cancel_won[t] = r.cancel(t) ? 1 : 0;
  });
  std::vector<int> skipped(n, 0);
  for (std::uint64_t t = 0; t < n; ++t) {
    if (r.claim(t + 1) && r.take(t)) skipped[t] = 1;
  }
  canceller.join();
  for (std::uint64_t t = 0; t < n; ++t) {
    ASSERT_EQ(skipped[t], cancel_won[t].load()) << "ticket " << t;
  }
}

}  // namespace
}  // namespace loopvisor::detail
