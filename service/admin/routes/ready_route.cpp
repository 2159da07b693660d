// GET /readyz: ready when every loop runs, none is stalled and the daemon is not draining.
#include <fmt/format.h>

#include <chrono>

#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> ready_route(RequestView, const AdminContext& context) {
  boost::json::array reasons;
  if (context.readiness->draining()) {
    reasons.push_back(
        {{"reason", "draining"}, {"message", "the daemon is shutting down and takes no new work"}});
  }
  const auto threshold = context.supervisor->stall_threshold();
  if (const auto silence = context.supervisor->watchdog_silence(); silence && *silence > threshold) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*silence).count();
    reasons.push_back(
        {{"reason", "watchdog_silent"},
         {"silence_seconds", std::chrono::duration<double>(*silence).count()},
         {"message",
          fmt::format("the watchdog has not probed the loops for {} ms (threshold {} ms): their health "
                      "is unknown",
                      ms, threshold.count())}});
  }
  const auto stats = context.supervisor->stats();
  for (const auto& s : stats) {
    if (!s.running) {
      reasons.push_back({{"loop", s.index},
                         {"name", s.name},
                         {"reason", "not_running"},
                         {"message", fmt::format("loop {} ('{}') is not running", s.index, s.name)}});
    } else if (s.stalled) {
      const auto lag_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.lag).count();
      reasons.push_back(
          {{"loop", s.index},
           {"name", s.name},
           {"reason", "stalled"},
           {"lag_seconds", std::chrono::duration<double>(s.lag).count()},
           {"message", fmt::format("loop {} ('{}') has not run the watchdog's probe for {} ms: a "
                                   "callback is blocking it",
                                   s.index, s.name, lag_ms)}});
    }
  }
  if (reasons.empty()) {
    co_return json_response(http::status::ok, boost::json::object{{"ready", true}, {"loops", stats.size()}});
  }
  co_return json_response(
      http::status::service_unavailable,
      boost::json::object{{"ready", false}, {"loops", stats.size()}, {"reasons", std::move(reasons)}});
}

}  // namespace loopvisor::service
