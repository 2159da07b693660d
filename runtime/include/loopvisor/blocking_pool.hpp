// BlockingPool: threads for blocking work, awaited from loops (asyncio.to_thread, run_in_executor).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "loopvisor/detail/origin.hpp"
#include "loopvisor/detail/sync.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/thread_future.hpp"

namespace loopvisor {

struct BlockingPoolOptions {
  std::size_t threads = 4;
  /// Jobs queued or running at most; beyond that submit raises SubmissionRejected at once.
  std::size_t max_pending = 1024;
  std::string thread_name_prefix = "lv-block-";
};

/// A bounded pool of plain threads for blocking calls (file I/O, legacy clients, CPU bursts),
/// so loops never block on them. A Supervisor owns one, shut down with it.
///
/// `submit(fn)` queues fn and returns a ThreadFuture; cancelling the future before fn starts
/// means fn never runs (a running fn cannot be interrupted, as in asyncio). `shutdown()`
/// refuses new jobs (RuntimeClosed), runs every job already accepted, and joins the threads.
///
/// Thread safety: every member from any thread, except `shutdown`/destructor from one of the
/// pool's own threads (WrongThreadError; it would wait for itself).
class BlockingPool {
 public:
  explicit BlockingPool(BlockingPoolOptions options = {});
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  /// `where` (the caller) is named when the job is refused.
  template <class F>
  [[nodiscard]] auto submit(F&& fn,
                            loopvisor::source_location where = loopvisor::source_location::current()) {
    using R = std::invoke_result_t<std::decay_t<F>&>;
    auto state = detail::make_future_state<R>();
    post([state, f = std::decay_t<F>(std::forward<F>(fn))]() mutable { detail::settle_with(*state, f); },
         where);
    return ThreadFuture<R>(std::move(state));
  }

  /// Refuses new jobs and waits for every accepted job to run (no bound: until they have). With
  /// `timeout`, stops waiting after it, as asyncio's shutdown_default_executor(timeout): the
  /// jobs still queued or running are left to finish in the background and their count is
  /// returned (0: all finished). Idempotent: a second call returns 0 at once.
  std::size_t shutdown(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  std::size_t threads() const noexcept;
  std::size_t pending() const noexcept;      ///< queued + running
  std::size_t busy() const noexcept;         ///< running now
  std::size_t max_pending() const noexcept;  ///< the bound on queued + running
  /// Jobs refused because max_pending were queued or running (SubmissionRejected), since start.
  std::uint64_t rejected() const noexcept;

 private:
  struct Impl;
  void post(detail::Callback job, const loopvisor::source_location& where);
  std::shared_ptr<Impl> impl_;  // shared with a background joiner after a bounded shutdown
};

/// On a loop: runs `fn` on `pool` and awaits its result without blocking the loop.
/// Cancelling the awaiting coroutine cancels the job if it has not started.
template <class F>
[[nodiscard]] auto run_in_executor(BlockingPool& pool, F fn)
    -> boost::asio::awaitable<std::invoke_result_t<F&>> {
  auto future = pool.submit(std::move(fn));
  co_return co_await future.async_wait();
}

/// On a loop: runs `fn` on the loop's blocking pool (its supervisor's, or the loop's own)
/// and awaits the result (asyncio.to_thread).
template <class F>
[[nodiscard]] auto to_thread(F fn) -> boost::asio::awaitable<std::invoke_result_t<F&>> {
  co_return co_await run_in_executor(Loop::current().blocking_pool(), std::move(fn));
}

}  // namespace loopvisor
