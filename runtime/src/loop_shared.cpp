// The part of a loop that outlives it: exception reporting, control posts, current loop.
#include "loopvisor/detail/loop_shared.hpp"

#include <time.h>
#include "log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace loopvisor::detail {

namespace {
thread_local LoopShared* tls_current = nullptr;
thread_local bool tls_busy_measuring = false;
}  // namespace

BusyScope::BusyScope(LoopShared* loop) noexcept : loop_(tls_busy_measuring ? nullptr : loop) {
  if (loop_ == nullptr) return;
  tls_busy_measuring = true;
  start_ = std::chrono::steady_clock::now();
  loop_->set_busy_since(
      std::chrono::duration_cast<std::chrono::nanoseconds>(start_.time_since_epoch()).count());
}

BusyScope::~BusyScope() { end(); }

std::chrono::nanoseconds BusyScope::end() noexcept {
  if (loop_ == nullptr) return {};
  const auto took = std::chrono::steady_clock::now() - start_;
  loop_->add_busy(took);
  loop_->set_busy_since(0);
  tls_busy_measuring = false;
  loop_ = nullptr;
  return took;
}

LoopShared* LoopShared::current() noexcept { return tls_current; }

LoopShared* LoopShared::exchange_current(LoopShared* next) noexcept {
  LoopShared* prev = tls_current;
  tls_current = next;
  return prev;
}

std::chrono::nanoseconds coarse_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

void SlowLaps::end_lap() noexcept {
  const unsigned callbacks = pending();
  const auto now = coarse_now();
  const auto took = now - mark_;
  if (loop_->is_slow(took)) {
    if (callbacks == 1) {
      loop_->report_slow("callback", took);
    } else {
      try {
        loop_->report_slow(std::to_string(callbacks) + " callbacks in a row", took);
      } catch (...) {  // no memory for the name: the lap is still counted
        loop_->report_slow("callbacks", took);
      }
    }
    mark_ = coarse_now();  // the report's own time is nobody's lap
  } else {
    mark_ = now;
  }
  stride_ = took.count() == 0 ? quick_stride : 1;
  countdown_ = stride_;
}

void LoopShared::report_slow(const std::string& what, std::chrono::nanoseconds took) noexcept {
  slow_.observe(took);
  try {
    detail::log(LogLevel::warn, "{}: {} held the loop for {} ms (slow callback threshold {} ms)", name_, what,
                std::chrono::duration_cast<std::chrono::milliseconds>(took).count(),
                std::chrono::duration_cast<std::chrono::milliseconds>(slow_threshold()).count());
  } catch (...) {
  }
}

void LoopShared::set_exception_handler(ExceptionHandler handler) {
  lock_guard guard(mu_);
  handler_ = std::move(handler);
}

void LoopShared::report(ExceptionContext context) noexcept {
  // sync: relaxed; a statistic read at scrape time.
  unhandled_.fetch_add(1, std::memory_order_relaxed);
  context.loop_index = index_;
  context.loop_name = name_;
  ExceptionHandler handler;
  try {
    {
      lock_guard guard(mu_);
      handler = handler_;
    }
    if (handler) {
      handler(context);
    } else {
      log_exception(context);
    }
  } catch (const std::exception& e) {
    detail::log(LogLevel::error, "{}: the exception handler itself threw ({}) while reporting: {}", name_,
                e.what(), context.message);
  } catch (...) {
    detail::log(LogLevel::error, "{}: the exception handler itself threw while reporting: {}", name_,
                context.message);
  }
}

bool LoopShared::post_control(Callback fn) {
  {
    lock_guard guard(mu_);
    if (io_ != nullptr) {
      boost::asio::post(*io_, std::move(fn));
      return true;
    }
  }
  fn.reset();  // outside the lock: destroying it may run arbitrary destructors
  return false;
}

void LoopShared::attach(Loop* owner, boost::asio::io_context* io) noexcept {
  lock_guard guard(mu_);
  owner_ = owner;
  io_ = io;
}

void LoopShared::detach() noexcept {
  lock_guard guard(mu_);
  io_ = nullptr;
  owner_ = nullptr;
}

}  // namespace loopvisor::detail
