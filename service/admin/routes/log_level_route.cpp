// GET and PUT /admin/log-level: the daemon's log level, read and changed at runtime.
#include <boost/json/parse.hpp>

#include "../../reload.hpp"
#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> log_level_get_route(RequestView, const AdminContext& context) {
  if (context.reload == nullptr) {
    co_return json_error(http::status::not_found, "not_found", "the log level cannot be read here");
  }
  co_return json_response(http::status::ok,
                          boost::json::object{{"level", context.reload->running().log_level}});
}

boost::asio::awaitable<Response> log_level_put_route(RequestView request, const AdminContext& context) {
  if (context.reload == nullptr) {
    co_return json_error(http::status::not_found, "not_found", "the log level cannot be changed here");
  }
  constexpr std::string_view usage =
      "send {\"level\": \"debug\"} (trace, debug, info, warn, error, critical, off)";
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(request.message.body(), ec);
  const auto* object = !ec ? body.if_object() : nullptr;
  const auto* level = object != nullptr ? object->if_contains("level") : nullptr;
  if (level == nullptr || !level->is_string() || object->size() != 1) {
    co_return json_error(
        http::status::bad_request, "bad_log_level",
        std::string("the body must be a JSON object with one string field 'level': ") + std::string(usage));
  }
  std::string previous;
  std::string error;
  try {
    previous = context.reload->set_log_level(level->get_string(), "PUT /admin/log-level");
  } catch (const std::invalid_argument& e) {
    error = e.what();
  }
  if (!error.empty()) co_return json_error(http::status::unprocessable_entity, "bad_log_level", error);
  co_return json_response(http::status::ok,
                          boost::json::object{{"level", level->get_string()}, {"previous", previous}});
}

}  // namespace loopvisor::service
