// BlockingPool: an Asio thread_pool with a bound on accepted jobs and named threads.
#include "loopvisor/blocking_pool.hpp"

#include "options_check.hpp"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <thread>

#include "loop_thread.hpp"
#include "loopvisor/detail/misuse.hpp"
#include "loopvisor/detail/origin.hpp"

namespace loopvisor {

struct BlockingPool::Impl {
  explicit Impl(const BlockingPoolOptions& o)
      : options(o), pool((detail::check_options(o), o.threads == 0 ? 1 : o.threads)) {}
  BlockingPoolOptions options;
  boost::asio::thread_pool pool;
  detail::atomic<std::size_t> pending{0};
  detail::atomic<std::size_t> busy{0};
  detail::atomic<std::size_t> next_thread{0};
  detail::atomic<std::uint64_t> rejected{0};  // refused as full
  detail::mutex mu;                           // orders post() against shutdown()
  bool closed = false;                        // guarded by mu
  detail::condition_variable idle;            // notified when pending drops to zero after closing
};

namespace {
// The pool whose thread this is (compared, never dereferenced).
thread_local const void* tls_pool = nullptr;
}  // namespace

BlockingPool::BlockingPool(BlockingPoolOptions options) : impl_(std::make_shared<Impl>(options)) {}

BlockingPool::~BlockingPool() {
  if (tls_pool == impl_.get()) {
    // Destroyed by one of its own jobs (it dropped the last reference): joining here would wait
    // for this very thread. Close it and let a background joiner own the threads instead.
    {
      detail::lock_guard g(impl_->mu);
      impl_->closed = true;
    }
    detail::report_misuse(
        "BlockingPool destroyed from one of its own jobs; its threads are joined in the background");
    try {
      std::thread([impl = impl_] { impl->pool.join(); }).detach();
    } catch (...) {
      // No thread to join with: the pool's threads finish their jobs and the state leaks.
      new std::shared_ptr<Impl>(impl_);  // NOLINT: deliberate leak, the threads still use it
    }
    return;
  }
  shutdown();
}

void BlockingPool::post(detail::Callback job, const loopvisor::source_location& where) {
  detail::lock_guard g(impl_->mu);
  if (impl_->closed) {
    throw RuntimeClosed(fmt::format("the blocking pool is shut down; the job from {} was not accepted",
                                    detail::origin_text(where)));
  }
  // sync: relaxed counter; the bound is advisory under races of at most a few jobs.
  if (impl_->pending.load(std::memory_order_relaxed) >= impl_->options.max_pending) {
    // sync: relaxed; a statistic.
    impl_->rejected.fetch_add(1, std::memory_order_relaxed);
    throw SubmissionRejected(
        fmt::format("the blocking pool is full ({} jobs pending); the job from {} was not accepted",
                    impl_->options.max_pending, detail::origin_text(where)));
  }
  // sync: relaxed; a gauge and an advisory bound, ordering nothing.
  impl_->pending.fetch_add(1, std::memory_order_relaxed);
  // The job holds the Impl, not this object: a bounded shutdown may leave it running in the
  // background after the BlockingPool is gone.
  boost::asio::post(impl_->pool, [impl = impl_.get(), job = std::move(job)]() mutable {
    if (tls_pool != impl) {
      tls_pool = impl;
      detail::name_this_thread(impl->options.thread_name_prefix +
                               std::to_string(impl->next_thread.fetch_add(1, std::memory_order_relaxed)));
    }
    // sync: relaxed gauges (busy, pending); they order nothing.
    impl->busy.fetch_add(1, std::memory_order_relaxed);
    job();  // exceptions are caught inside the job (they belong to its future)
    job.reset();
    impl->busy.fetch_sub(1, std::memory_order_relaxed);
    if (impl->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      detail::lock_guard g(impl->mu);  // a bounded shutdown may be waiting for the last job
      impl->idle.notify_all();
    }
  });
}

std::size_t BlockingPool::shutdown(std::optional<std::chrono::milliseconds> timeout) {
  if (tls_pool == impl_.get()) throw WrongThreadError("BlockingPool::shutdown() from one of its own threads");
  {
    detail::unique_lock g(impl_->mu);
    if (impl_->closed) return 0;
    impl_->closed = true;
    if (timeout) {
      // sync: acq_rel decrement in the job; the predicate rereads under mu after each wake-up.
      const bool idle = impl_->idle.wait_for(g, *timeout, [&] { return impl_->pending.load() == 0; });
      if (!idle) {
        const std::size_t unfinished = impl_->pending.load();
        // asyncio's shutdown_default_executor(timeout): stop waiting; the jobs already accepted
        // still run, on threads a background joiner owns together with the pool's state.
        std::thread([impl = impl_] { impl->pool.join(); }).detach();
        return unfinished;
      }
    }
  }
  impl_->pool.join();  // runs every accepted job, then the threads exit
  return 0;
}

std::size_t BlockingPool::threads() const noexcept {
  return impl_->options.threads == 0 ? 1 : impl_->options.threads;
}
// sync: relaxed reads of gauges.
std::size_t BlockingPool::pending() const noexcept { return impl_->pending.load(std::memory_order_relaxed); }
std::size_t BlockingPool::busy() const noexcept { return impl_->busy.load(std::memory_order_relaxed); }
std::size_t BlockingPool::max_pending() const noexcept { return impl_->options.max_pending; }
std::uint64_t BlockingPool::rejected() const noexcept {
  return impl_->rejected.load(std::memory_order_relaxed);
}

}  // namespace loopvisor
