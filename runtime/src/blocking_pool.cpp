// BlockingPool: an Asio thread_pool with a bound on accepted jobs and named threads.
#include "loopvisor/blocking_pool.hpp"

#include "options_check.hpp"

#include <fmt/format.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "loop_thread.hpp"

namespace loopvisor {

namespace {
thread_local const BlockingPool* tls_pool = nullptr;
}

struct BlockingPool::Impl {
  explicit Impl(const BlockingPoolOptions& o)
      : options(o), pool((detail::check_options(o), o.threads == 0 ? 1 : o.threads)) {}
  BlockingPoolOptions options;
  boost::asio::thread_pool pool;
  detail::atomic<std::size_t> pending{0};
  detail::atomic<std::size_t> busy{0};
  detail::atomic<std::size_t> next_thread{0};
  detail::mutex mu;     // orders post() against shutdown()
  bool closed = false;  // guarded by mu
};

BlockingPool::BlockingPool(BlockingPoolOptions options) : impl_(std::make_unique<Impl>(options)) {}

BlockingPool::~BlockingPool() { shutdown(); }

void BlockingPool::post(detail::Callback job) {
  detail::lock_guard g(impl_->mu);
  if (impl_->closed) throw RuntimeClosed("the blocking pool is shut down; the job was not accepted");
  // sync: relaxed counter; the bound is advisory under races of at most a few jobs.
  if (impl_->pending.load(std::memory_order_relaxed) >= impl_->options.max_pending) {
    throw SubmissionRejected(fmt::format(
        "the blocking pool is full ({} jobs pending); the job was not accepted", impl_->options.max_pending));
  }
  // sync: relaxed; a gauge and an advisory bound, ordering nothing.
  impl_->pending.fetch_add(1, std::memory_order_relaxed);
  boost::asio::post(impl_->pool, [this, job = std::move(job)]() mutable {
    if (tls_pool != this) {
      tls_pool = this;
      detail::name_this_thread(impl_->options.thread_name_prefix +
                               std::to_string(impl_->next_thread.fetch_add(1, std::memory_order_relaxed)));
    }
    // sync: relaxed gauges (busy, pending); they order nothing.
    impl_->busy.fetch_add(1, std::memory_order_relaxed);
    job();  // exceptions are caught inside the job (they belong to its future)
    job.reset();
    impl_->busy.fetch_sub(1, std::memory_order_relaxed);
    impl_->pending.fetch_sub(1, std::memory_order_relaxed);
  });
}

void BlockingPool::shutdown() {
  if (tls_pool == this) throw WrongThreadError("BlockingPool::shutdown() from one of its own threads");
  {
    detail::lock_guard g(impl_->mu);
    if (impl_->closed) return;
    impl_->closed = true;
  }
  impl_->pool.join();  // runs every accepted job, then the threads exit
}

std::size_t BlockingPool::threads() const noexcept {
  return impl_->options.threads == 0 ? 1 : impl_->options.threads;
}
// sync: relaxed reads of gauges.
std::size_t BlockingPool::pending() const noexcept { return impl_->pending.load(std::memory_order_relaxed); }
std::size_t BlockingPool::busy() const noexcept { return impl_->busy.load(std::memory_order_relaxed); }

}  // namespace loopvisor
