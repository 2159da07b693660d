// Router: the admin routes as data (method, path, handler) and the dispatch that answers
// 400/404/405 for requests no route takes.
#pragma once

#include <span>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "admin_context.hpp"
#include "http_types.hpp"

namespace loopvisor::service {

using Handler = boost::asio::awaitable<Response> (*)(RequestView, const AdminContext&);

struct Route {
  http::verb method;
  /// An exact path, or one ending in "/{id}": then any single non-empty segment there
  /// matches and reaches the handler as RequestView::id.
  std::string_view path;
  Handler handler;
  std::string_view summary;  ///< listed in the 404 body
  /// Open without the bearer token even when one is configured (metrics and health).
  bool open = false;
};

/// Every admin route; each handler lives in routes/ in a file named after it.
std::span<const Route> admin_routes();

/// Whether `path` is one `route_path` names (see Route::path); sets `id` for a "{id}" route.
bool path_matches(std::string_view route_path, std::string_view path, std::string_view& id);

/// The route pattern `path` belongs to ("/v1/jobs/{id}"), or "unmatched": a bounded label for
/// metrics and the access log whatever path a client sends.
std::string_view route_of(std::string_view path);

/// Who sent a request, and how dispatch treated its credentials, for the access and audit logs.
/// `auth`: "open" (the route needs none), "none" (no token is configured), "ok", "refused", or
/// "-" (no route was reached).
struct DispatchInfo {
  std::string_view client = "-";  ///< in: the peer's "address:port" (RequestView::client)
  std::string_view auth = "-";    ///< out
};

/// Answers `request` with the route matching its path and method: 400 for a target that is
/// not origin-form, 404 (listing the routes) for an unknown path, 405 (with Allow) for a
/// known path and another method, 401 for a route that is not open when a token is configured
/// and the request does not carry it. HEAD is answered like GET, without the body.
/// `info` (which must outlive the coroutine) is filled in as it goes.
boost::asio::awaitable<Response> dispatch(const Request& request, const AdminContext& context,
                                          DispatchInfo& info);

}  // namespace loopvisor::service
