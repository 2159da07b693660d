// GET /help: the route table itself, so the listing cannot drift from what is served.
#include "../router.hpp"
#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> help_route(RequestView, const AdminContext& context) {
  boost::json::array routes;
  for (const auto& route : admin_routes()) {
    routes.push_back({{"method", std::string_view(http::to_string(route.method))},
                      {"path", route.path},
                      {"summary", route.summary},
                      {"needs_token", !route.open && !context.current_token()->empty()}});
  }
  co_return json_response(http::status::ok, boost::json::object{{"routes", std::move(routes)}});
}

}  // namespace loopvisor::service
