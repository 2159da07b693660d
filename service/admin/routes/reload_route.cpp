// POST /admin/reload: the configuration reload SIGHUP does, answered with what it changed.
#include "../../reload.hpp"
#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> reload_route(RequestView, const AdminContext& context) {
  if (context.reload == nullptr) {
    co_return json_error(http::status::not_found, "not_found", "configuration reload is not available here");
  }
  // Reading a small file and swapping settings: quick enough for the admin thread.
  const auto outcome = context.reload->reload("POST /admin/reload");
  if (!outcome.ok) {
    co_return json_error(http::status::unprocessable_entity, "reload_refused",
                         "the running configuration stays as it was: " + outcome.error);
  }
  boost::json::array applied, restart;
  for (const auto& line : outcome.applied) applied.emplace_back(line);
  for (const auto& line : outcome.needs_restart) restart.emplace_back(line);
  co_return json_response(http::status::ok, boost::json::object{{"status", "reloaded"},
                                                                {"applied", std::move(applied)},
                                                                {"needs_restart", std::move(restart)}});
}

}  // namespace loopvisor::service
