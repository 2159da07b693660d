// JSON response helpers.
#include "http_types.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>

#include "loopvisor/version.hpp"

namespace loopvisor::service {

Response json_response(http::status status, const boost::json::value& body) {
  Response res{status, 11};
  res.set(http::field::server, "loopvisord/" LOOPVISOR_VERSION);
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = boost::json::serialize(body);
  res.body() += '\n';
  return res;
}

Response json_error(http::status status, std::string_view code, std::string_view message) {
  return json_response(
      status,
      boost::json::object{{"error", code}, {"status", static_cast<unsigned>(status)}, {"message", message}});
}

}  // namespace loopvisor::service
