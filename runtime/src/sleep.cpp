// sleep(d): a timer on the calling coroutine's executor.
#include "loopvisor/sleep.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "loopvisor/detail/task_state.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor {

boost::asio::awaitable<void> sleep(std::chrono::steady_clock::duration delay) {
  auto executor = co_await boost::asio::this_coro::executor;
  boost::system::error_code ec;
  if (delay <= std::chrono::steady_clock::duration::zero()) {
    co_await boost::asio::post(executor, boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  } else {
    boost::asio::steady_timer timer(executor, delay);
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  if (ec == boost::asio::error::operation_aborted)
    std::rethrow_exception(detail::current_cancelled_error("sleep"));
  if (ec) throw boost::system::system_error(ec, "sleep");
  // The timer fired but a cancel arrived before this coroutine resumed: asyncio delivers the
  // cancel at this await rather than let the task run on as if it had not been asked.
  auto state = co_await boost::asio::this_coro::cancellation_state;
  if (state.cancelled() != boost::asio::cancellation_type::none) {
    std::rethrow_exception(detail::current_cancelled_error("sleep"));
  }
}

}  // namespace loopvisor
