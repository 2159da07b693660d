// sleep(d): a timer on the calling coroutine's executor.
#include "loopvisor/sleep.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "loopvisor/errors.hpp"

namespace loopvisor {

boost::asio::awaitable<void> sleep(std::chrono::steady_clock::duration delay) {
  auto executor = co_await boost::asio::this_coro::executor;
  if (delay <= std::chrono::steady_clock::duration::zero()) {
    co_await boost::asio::post(executor, boost::asio::use_awaitable);
    co_return;
  }
  boost::asio::steady_timer timer(executor, delay);
  boost::system::error_code ec;
  co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  if (ec == boost::asio::error::operation_aborted) throw CancelledError("sleep was cancelled");
  if (ec) throw boost::system::system_error(ec, "sleep");
}

}  // namespace loopvisor
