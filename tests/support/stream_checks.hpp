// Checks every Stream transport (TCP, Unix-domain, TLS) must pass.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "loopvisor/streams.hpp"
#include "loopvisor/timeout.hpp"
#include "test_support.hpp"

namespace loopvisor::test {

/// On a loop, with `stream` connected to a peer that sends nothing: a read is bounded by a
/// timeout (TimeoutError), and cancelling the task blocked in a read ends it with
/// CancelledError. The stream stays usable.
inline asio::awaitable<void> expect_reads_bounded_and_cancellable(Stream& stream) {
  auto scope = timeout(std::chrono::milliseconds(10));
  EXPECT_THROW((void)co_await scope.run(stream.read()), TimeoutError);
  auto reader =
      create_task([](Stream* st) -> asio::awaitable<std::string> { co_return co_await st->read(); }(&stream));
  co_await yield_now();
  reader.cancel();
  EXPECT_THROW((void)co_await reader.async_wait(), CancelledError);
}

}  // namespace loopvisor::test
