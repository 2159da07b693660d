// GET /version: which build of loopvisord answers (the same as loopvisor_build_info's labels).
#include "loopvisor/build_info.hpp"
#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> version_route(RequestView, const AdminContext&) {
  const auto info = build_info();
  co_return json_response(http::status::ok, boost::json::object{{"version", info.version},
                                                                {"revision", info.revision},
                                                                {"commit_date", info.commit_date},
                                                                {"dirty", info.dirty},
                                                                {"boost", info.boost},
                                                                {"compiler", info.compiler}});
}

}  // namespace loopvisor::service
