// GET /v1/jobs/{id}: one job's record; ?wait_ms=N first waits up to N ms for it to end, so a
// client learns of the end without polling. The admin thread never blocks while it waits.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "../../jobs/job_registry.hpp"
#include "job_route_support.hpp"
#include "routes.hpp"

namespace loopvisor::service {

namespace {
constexpr std::size_t max_wait_ms = 60'000;
}

boost::asio::awaitable<Response> job_get_route(RequestView request, const AdminContext& context) {
  if (auto off = jobs_off(context)) co_return std::move(*off);
  const auto id = parse_job_id(context, request.id);
  if (!id) co_return unknown_job(context, request.id);
  std::string error;
  const auto wait_ms = query_number(request.target, "wait_ms", 0, max_wait_ms, error);
  if (!error.empty()) co_return json_error(http::status::bad_request, "bad_query", error);
  if (wait_ms && *wait_ms > 0) {
    // A timer on this (admin) thread, cut short by the job's end. The registry keeps only a
    // weak reference and this thread's executor, so nothing of this request outlives it.
    const auto executor = co_await boost::asio::this_coro::executor;
    auto timer = std::make_shared<boost::asio::steady_timer>(executor, std::chrono::milliseconds(*wait_ms));
    const auto token = context.jobs->on_final(*id, [executor, weak = std::weak_ptr(timer)] {
      boost::asio::post(executor, [weak] {
        if (const auto t = weak.lock()) t->cancel();
      });
    });
    if (token) {
      (void)co_await timer->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      context.jobs->forget_waiter(*id, *token);
    }
  }
  const auto job = context.jobs->get(*id);
  if (!job) co_return unknown_job(context, request.id);
  co_return json_response(http::status::ok, to_json(*job));
}

}  // namespace loopvisor::service
