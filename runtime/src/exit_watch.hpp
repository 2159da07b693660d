// ExitWatch: awaiting a child's exit without reaping it (pidfd, or a poll where there is none).
#pragma once

#include <algorithm>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include <unistd.h>

#include "child_process.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor::detail {

/// A completion token whose operation task cancellation cannot reach: for the clean-up that
/// must finish after a cancel (stopping and reaping the child).
inline auto uncancellable(boost::system::error_code& ec) {
  return boost::asio::bind_cancellation_slot(boost::asio::cancellation_slot(),
                                             boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

/// Watches the child's exit without reaping it: a pidfd in the loop's reactor where the kernel
/// has pidfd_open (Linux 5.3), else a 10 ms poll.
class ExitWatch {
 public:
  ExitWatch(const boost::asio::any_io_executor& executor, ChildProcess& child)
      : child_(child), executor_(executor) {
    // Out of descriptors for the copy: fall back to polling rather than fail the child.
    if (const int fd = child.pidfd() >= 0 ? ::dup(child.pidfd()) : -1; fd >= 0) {
      pidfd_ = std::make_shared<boost::asio::posix::stream_descriptor>(executor, fd);
    }
  }

  /// True once exited; false when `limit` passed first. `cancellable`: a task cancellation
  /// ends the wait with CancelledError; otherwise it cannot reach it.
  boost::asio::awaitable<bool> wait(std::optional<std::chrono::steady_clock::duration> limit,
                                    bool cancellable) {
    const auto deadline =
        limit ? std::chrono::steady_clock::now() + *limit : std::chrono::steady_clock::time_point::max();
    boost::system::error_code ec;
    if (pidfd_) {
      // The timer's handler holds the descriptor weakly: it may run after this frame is gone.
      auto expired = std::make_shared<bool>(false);
      boost::asio::steady_timer timer(executor_);
      if (limit) {
        timer.expires_at(deadline);
        timer.async_wait([weak = std::weak_ptr(pidfd_), expired](boost::system::error_code tec) {
          if (tec) return;
          *expired = true;
          if (auto fd = weak.lock()) fd->cancel();
        });
      }
      if (cancellable) {
        co_await pidfd_->async_wait(boost::asio::posix::descriptor_base::wait_read,
                                    boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      } else {
        co_await pidfd_->async_wait(boost::asio::posix::descriptor_base::wait_read, uncancellable(ec));
      }
      timer.cancel();
      if (!ec || child_.exited()) co_return true;
      if (*expired) co_return false;
      if (ec == boost::asio::error::operation_aborted)
        throw CancelledError("waiting for the child was cancelled");
      throw boost::system::system_error(ec, "waiting for the child");
    }
    for (;;) {
      if (child_.exited()) co_return true;
      if (std::chrono::steady_clock::now() >= deadline) co_return false;
      boost::asio::steady_timer tick(
          executor_, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(10)));
      if (cancellable) {
        co_await tick.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
        if (ec == boost::asio::error::operation_aborted)
          throw CancelledError("waiting for the child was cancelled");
      } else {
        co_await tick.async_wait(uncancellable(ec));
      }
    }
  }

 private:
  ChildProcess& child_;
  boost::asio::any_io_executor executor_;
  std::shared_ptr<boost::asio::posix::stream_descriptor> pidfd_;
};

}  // namespace loopvisor::detail
