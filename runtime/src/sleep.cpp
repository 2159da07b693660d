// sleep(d): which timer a sleep uses, and what its awaiter receives.
#include "loopvisor/sleep.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <boost/system/system_error.hpp>

#include "loopvisor/detail/task_executor.hpp"
#include "loopvisor/detail/task_state.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor {

namespace {

boost::asio::awaitable<void> sleep_coroutine(std::chrono::steady_clock::duration delay) {
  co_await Sleep(delay);
}

}  // namespace

boost::asio::awaitable<void> Sleep::as_awaitable() && {
  const auto delay = wait_.take_delay();
  if (!delay) std::rethrow_exception(detail::sleep_reused());
  return sleep_coroutine(*delay);
}

}  // namespace loopvisor

namespace loopvisor::detail {

namespace {

using IoExecutor = boost::asio::io_context::executor_type;
using TrackedIoExecutor = std::decay_t<decltype(boost::asio::require(
    std::declval<IoExecutor>(), boost::asio::execution::outstanding_work.tracked))>;

}  // namespace

boost::asio::io_context* io_context_of(const boost::asio::any_io_executor& executor) noexcept {
  // A task's executor, and a bare io_context's, with or without outstanding work tracked:
  // the kinds of executor a coroutine on a loop, or on an io_context, runs on.
  const bool io = executor.target<TaskExecutor<IoExecutor>>() != nullptr ||
                  executor.target<TaskExecutor<TrackedIoExecutor>>() != nullptr ||
                  executor.target<IoExecutor>() != nullptr || executor.target<TrackedIoExecutor>() != nullptr;
  if (!io) return nullptr;
  return &static_cast<boost::asio::io_context&>(
      boost::asio::query(executor, boost::asio::execution::context));
}

std::exception_ptr sleep_reused() {
  return std::make_exception_ptr(
      InvalidStateError("this Sleep was already awaited: a Sleep is awaited once, call sleep() again"));
}

std::exception_ptr sleep_outcome(const boost::system::error_code& ec, bool cancelled) {
  if (cancelled || ec == boost::asio::error::operation_aborted) return current_cancelled_error("sleep");
  if (ec) return std::make_exception_ptr(boost::system::system_error(ec, "sleep"));
  return nullptr;
}

}  // namespace loopvisor::detail
