// Router: route table lookup and the 400/404/405 answers.
#include "router.hpp"

#include <fmt/format.h>

#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>
#include <cctype>

#include "routes/routes.hpp"

namespace loopvisor::service {

std::span<const Route> admin_routes() {
  static const Route routes[] = {
      {http::verb::get, "/metrics", &metrics_route, "Prometheus metrics (text format 0.0.4)", true},
      {http::verb::get, "/healthz", &live_route, "200 while the process and the admin thread are alive",
       true},
      {http::verb::get, "/livez", &live_route, "the same as /healthz", true},
      {http::verb::get, "/readyz", &ready_route, "200 when every loop runs, none is stalled and not draining",
       true},
      {http::verb::get, "/debug/loops", &debug_loops_route, "each loop's queue, lag, busy ratio and tasks"},
      {http::verb::get, "/debug/tasks", &debug_tasks_route, "live tasks, paginated (?limit=&offset=&loop=)"},
      {http::verb::post, "/v1/jobs", &jobs_create_route,
       "start a job: {\"kind\", \"args\", \"name\", \"timeout_ms\", \"loop\" or \"key\"}; 202 with it"},
      {http::verb::get, "/v1/jobs", &jobs_list_route, "jobs in id order (?state=&limit=&offset=)"},
      {http::verb::get, "/v1/jobs/{id}", &job_get_route, "one job (?wait_ms=N waits up to N ms for its end)"},
      {http::verb::delete_, "/v1/jobs/{id}", &job_delete_route,
       "cancel a queued or running job (202), or forget a finished one (200)"},
      {http::verb::post, "/admin/reload", &reload_route,
       "re-read the config file and environment, as SIGHUP does; 200 with what changed, 422 if refused"},
      {http::verb::get, "/admin/log-level", &log_level_get_route, "the log level in force"},
      {http::verb::put, "/admin/log-level", &log_level_put_route,
       "set the log level now: {\"level\": \"debug\"}; the next reload sets it from the file again"},
      {http::verb::get, "/version", &version_route, "version, git revision, commit date, Boost and compiler",
       true},
      {http::verb::get, "/openapi.json", &openapi_route,
       "the OpenAPI 3.1 document of every route, with the schema of each answer", true},
      {http::verb::get, "/help", &help_route, "this list", true},
  };
  return routes;
}

bool path_matches(std::string_view route_path, std::string_view path, std::string_view& id) {
  constexpr std::string_view param = "{id}";
  if (!route_path.ends_with(param)) return route_path == path;
  const auto prefix = route_path.substr(0, route_path.size() - param.size());
  if (!path.starts_with(prefix)) return false;
  const auto rest = path.substr(prefix.size());
  if (rest.empty() || rest.find('/') != std::string_view::npos) return false;
  id = rest;
  return true;
}

std::string_view route_of(std::string_view path) {
  for (const auto& r : admin_routes()) {
    std::string_view id;
    if (path_matches(r.path, path, id)) return r.path;
  }
  return "unmatched";
}

namespace {

/// Compares `given` with a non-empty `secret` in time independent of where they differ.
bool same_secret(std::string_view given, std::string_view secret) {
  unsigned char diff = given.size() == secret.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ secret[i % secret.size()]);
  }
  return diff == 0;
}

bool authorized(const Request& request, const std::string& token) {
  if (token.empty()) return true;
  std::string_view header = request[http::field::authorization];
  // RFC 7235: the scheme is case-insensitive and one or more spaces follow it.
  constexpr std::string_view scheme = "bearer";
  if (header.size() <= scheme.size() || header[scheme.size()] != ' ') return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != scheme[i]) return false;
  }
  header.remove_prefix(scheme.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  return same_secret(header, token);
}

}  // namespace

boost::asio::awaitable<Response> dispatch(const Request& request, const AdminContext& context,
                                          DispatchInfo& info) {
  // RFC 9112 3.2: an HTTP/1.1 request carries exactly one Host; any request at most one.
  const auto hosts = request.count(http::field::host);
  if (hosts > 1 || (hosts == 0 && request.version() >= 11)) {
    co_return json_error(http::status::bad_request, "bad_host",
                         hosts > 1 ? "the request has more than one Host header; send exactly one"
                                   : "an HTTP/1.1 request needs a Host header");
  }
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
    std::string_view id;
    if (!path_matches(route.path, path, id)) continue;
    if (route.method == method) {
      const auto token = context.current_token();
      info.auth = route.open ? "open" : token->empty() ? "none" : "ok";
      if (!route.open && !authorized(request, *token)) {
        info.auth = "refused";
        auto res = json_error(http::status::unauthorized, "unauthorized",
                              fmt::format("{} needs 'Authorization: Bearer <token>' with the token from "
                                          "[admin] auth_token_file",
                                          path));
        res.set(http::field::www_authenticate, "Bearer realm=\"loopvisord\"");
        co_return res;
      }
      Response res = co_await route.handler(RequestView{request, *target, id, info.client}, context);
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
    known += fmt::format("{}{} {}", known.empty() ? "" : ", ",
                         std::string_view(http::to_string(route.method)), route.path);
  }
  co_return json_error(http::status::not_found, "not_found",
                       fmt::format("no route for {}; routes: {}", path, known));
}

}  // namespace loopvisor::service
