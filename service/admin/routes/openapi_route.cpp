// GET /openapi.json: the admin API's OpenAPI document, as the repository holds it.
#include <boost/beast/http/field.hpp>

#include "../openapi_document.hpp"
#include "loopvisor/version.hpp"
#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> openapi_route(RequestView, const AdminContext&) {
  Response res{http::status::ok, 11};
  res.set(http::field::server, "loopvisord/" LOOPVISOR_VERSION);
  res.set(http::field::content_type, "application/json");
  res.body() = std::string(openapi_document());
  co_return res;
}

}  // namespace loopvisor::service
