// sleep(d): a timer on the calling coroutine's executor.
#include "loopvisor/sleep.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <tuple>

#include "loopvisor/detail/task_state.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor {

boost::asio::awaitable<void> sleep(std::chrono::steady_clock::duration delay) {
  auto executor = co_await boost::asio::this_coro::executor;
  boost::system::error_code ec;
  // Deferred operations, awaited directly (awaitable_async_op): use_awaitable would wrap each
  // in a coroutine frame of its own, per sleeper. Named, so each lives in this frame for the
  // whole await (the awaiter keeps only a reference to it).
  if (delay <= std::chrono::steady_clock::duration::zero()) {
    auto yield = boost::asio::post(executor, boost::asio::deferred);
    co_await std::move(yield);
  } else {
    boost::asio::steady_timer timer(executor, delay);
    auto wait = timer.async_wait(boost::asio::as_tuple(boost::asio::deferred));
    std::tie(ec) = co_await std::move(wait);
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
