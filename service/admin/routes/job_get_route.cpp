// GET /v1/jobs/{id}: one job's record; ?wait_ms=N first waits up to N ms for it to end, so a
// client learns of the end without polling. The admin thread never blocks while it waits.
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../../jobs/job_registry.hpp"
#include "job_route_support.hpp"
#include "routes.hpp"

namespace loopvisor::service {

namespace {
constexpr std::size_t max_wait_ms = 60'000;
}

boost::asio::awaitable<Response> job_get_route(RequestView request, const AdminContext& context) {
  using namespace boost::asio::experimental::awaitable_operators;
  if (auto off = jobs_off(context)) co_return std::move(*off);
  const auto id = parse_job_id(request.id);
  if (!id) co_return unknown_job(request.id);
  std::string error;
  const auto wait_ms = query_number(request.target, "wait_ms", 0, max_wait_ms, error);
  if (!error.empty()) co_return json_error(http::status::bad_request, "bad_query", error);
  if (wait_ms && *wait_ms > 0) {
    auto final = context.jobs->when_final(*id);
    if (final.valid() && !final.done()) {
      boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
      timer.expires_after(std::chrono::milliseconds(*wait_ms));
      // Whichever ends first cancels the other; cancelling `final` touches only this waiter.
      (void)co_await (final.async_wait() || timer.async_wait(boost::asio::use_awaitable));
    }
  }
  const auto job = context.jobs->get(*id);
  if (!job) co_return unknown_job(request.id);
  co_return json_response(http::status::ok, to_json(*job));
}

}  // namespace loopvisor::service
