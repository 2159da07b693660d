// The admin route handlers, one per file in this directory.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "../admin_context.hpp"
#include "../http_types.hpp"

namespace loopvisor::service {

/// GET /metrics: every collector, Prometheus text format 0.0.4; 404 when metrics are off.
boost::asio::awaitable<Response> metrics_route(RequestView request, const AdminContext& context);
/// GET /healthz and /livez: 200 while this thread answers.
boost::asio::awaitable<Response> live_route(RequestView request, const AdminContext& context);
/// GET /readyz: 200, or 503 naming each loop that is not running or stalled, and draining.
boost::asio::awaitable<Response> ready_route(RequestView request, const AdminContext& context);
/// GET /debug/loops: per-loop statistics.
boost::asio::awaitable<Response> debug_loops_route(RequestView request, const AdminContext& context);
/// GET /help: every route with its method and summary.
boost::asio::awaitable<Response> help_route(RequestView request, const AdminContext& context);
/// GET /debug/tasks: live tasks of every loop, paginated.
boost::asio::awaitable<Response> debug_tasks_route(RequestView request, const AdminContext& context);

/// GET /openapi.json: the OpenAPI 3.1 document of every route (service/admin/openapi.json).
boost::asio::awaitable<Response> openapi_route(RequestView request, const AdminContext& context);

/// GET /version: version, git revision and commit date, Boost and compiler.
boost::asio::awaitable<Response> version_route(RequestView request, const AdminContext& context);

/// GET /admin/log-level: {"level": ...}.
boost::asio::awaitable<Response> log_level_get_route(RequestView request, const AdminContext& context);
/// PUT /admin/log-level with {"level": "debug"}: 200 with the new and previous level, 422 for a
/// level that does not exist. The next reload sets the level from the config file again.
boost::asio::awaitable<Response> log_level_put_route(RequestView request, const AdminContext& context);

/// POST /admin/reload: the configuration reload SIGHUP does; 200 or 422 with the outcome.
boost::asio::awaitable<Response> reload_route(RequestView request, const AdminContext& context);

/// POST /v1/jobs: checks the request and starts a job; 202 with its record.
boost::asio::awaitable<Response> jobs_create_route(RequestView request, const AdminContext& context);
/// GET /v1/jobs: job records in id order, filtered by state, paginated.
boost::asio::awaitable<Response> jobs_list_route(RequestView request, const AdminContext& context);
/// GET /v1/jobs/{id}: one job, optionally after waiting for it to end.
boost::asio::awaitable<Response> job_get_route(RequestView request, const AdminContext& context);
/// DELETE /v1/jobs/{id}: cancels a job not yet finished, forgets a finished one.
boost::asio::awaitable<Response> job_delete_route(RequestView request, const AdminContext& context);

}  // namespace loopvisor::service
