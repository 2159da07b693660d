// Handle: default state and cancel after the loop is gone.
#include "loopvisor/handle.hpp"

#include <gtest/gtest.h>

#include "loopvisor/loop.hpp"

namespace loopvisor {
namespace {

using namespace std::chrono_literals;

TEST(Handle, DefaultHandleCancelsNothing) {
  Handle h;
  EXPECT_FALSE(h.cancel());
}

TEST(Handle, CancelAfterTheLoopIsDestroyedReturnsFalse) {
  Handle h;
  {
    Loop loop;
    h = loop.call_soon_threadsafe([] {});
  }
  EXPECT_FALSE(h.cancel());
}

TEST(Handle, TicketsAreSequentialPerLoop) {
  Loop loop;
  auto a = loop.call_soon_threadsafe([] {});
  auto b = loop.call_soon_threadsafe([] {});
  EXPECT_EQ(b.ticket(), a.ticket() + 1);
  loop.close(1s, 1s);
}

}  // namespace
}  // namespace loopvisor
