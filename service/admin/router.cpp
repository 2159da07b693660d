// Router: route table lookup and the 400/404/405 answers.
#include "router.hpp"

#include <fmt/format.h>
#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>

#include "routes/routes.hpp"

namespace loopvisor::service {

std::span<const Route> admin_routes() {
  static const Route routes[] = {
      {http::verb::get, "/metrics", &metrics_route, "Prometheus metrics (text format 0.0.4)"},
      {http::verb::get, "/healthz", &live_route, "200 while the process and the admin thread are alive"},
      {http::verb::get, "/livez", &live_route, "the same as /healthz"},
      {http::verb::get, "/readyz", &ready_route, "200 when every loop runs, none is stalled and not draining"},
      {http::verb::get, "/debug/loops", &debug_loops_route, "each loop's queue, lag, busy ratio and tasks"},
      {http::verb::get, "/debug/tasks", &debug_tasks_route, "live tasks, paginated (?limit=&offset=&loop=)"},
  };
  return routes;
}

boost::asio::awaitable<Response> dispatch(const Request& request, const AdminContext& context) {
  const auto target = boost::urls::parse_origin_form(request.target());
  if (!target) {
    co_return json_error(http::status::bad_request, "bad_target",
                         fmt::format("the request target '{}' is not a path with an optional query: {}",
                                     std::string_view(request.target()), target.error().message()));
  }
  const bool head = request.method() == http::verb::head;
  const http::verb method = head ? http::verb::get : request.method();
  const std::string_view path = target->encoded_path();
  std::string allow;
  for (const auto& route : admin_routes()) {
    if (route.path != path) continue;
    if (route.method == method) {
      Response res = co_await route.handler(RequestView{request, *target}, context);
      if (head) {
        res.prepare_payload();  // Content-Length of the GET body
        res.body().clear();
      }
      co_return res;
    }
    if (!allow.empty()) allow += ", ";
    allow += std::string(http::to_string(route.method));
    if (route.method == http::verb::get) allow += ", HEAD";
  }
  if (!allow.empty()) {
    auto res = json_error(http::status::method_not_allowed, "method_not_allowed",
                          fmt::format("{} does not accept {}; allowed: {}", path,
                                      std::string_view(request.method_string()), allow));
    res.set(http::field::allow, allow);
    co_return res;
  }
  std::string known;
  for (const auto& route : admin_routes()) {
    known += fmt::format("{}{} {}", known.empty() ? "" : ", ", std::string_view(http::to_string(route.method)),
                         route.path);
  }
  co_return json_error(http::status::not_found, "not_found",
                       fmt::format("no route for {}; routes: {}", path, known));
}

}  // namespace loopvisor::service
