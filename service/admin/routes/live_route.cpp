// GET /healthz, /livez: the process and its admin thread are alive (the loops may not be).
#include <chrono>

#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> live_route(RequestView, const AdminContext& context) {
  const auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - context.started);
  co_return json_response(http::status::ok,
                          boost::json::object{{"status", "alive"}, {"uptime_seconds", uptime.count()}});
}

}  // namespace loopvisor::service
