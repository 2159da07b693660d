// POST /v1/jobs: a JSON job request, checked field by field, then handed to the registry.
#include <fmt/format.h>

#include <algorithm>

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>

#include "../../jobs/job_registry.hpp"
#include "../audit_log.hpp"
#include "job_route_support.hpp"
#include "routes.hpp"
#include "text.hpp"

namespace loopvisor::service {

namespace {

constexpr std::size_t max_name_bytes = 200;

Response bad_request(std::string_view message) {
  return json_error(http::status::bad_request, "bad_job_request", message);
}

std::string kinds_listing() {
  std::string out;
  for (const auto& kind : job_kinds()) {
    out += fmt::format("{}'{}' ({})", out.empty() ? "" : "; ", kind.name, kind.summary);
  }
  return out;
}

/// Fills `out` from the request body, or returns the 4xx answer that says what is wrong.
std::optional<Response> read_request(const Request& message, const AdminContext& context, JobRequest& out) {
  const std::string_view type = message[http::field::content_type];
  if (!type.empty() && !type.starts_with("application/json")) {
    return json_error(http::status::unsupported_media_type, "unsupported_media_type",
                      fmt::format("Content-Type '{}': a job request is JSON; send Content-Type: "
                                  "application/json (curl: -H 'Content-Type: application/json')",
                                  type));
  }
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(message.body(), ec);
  if (ec) return bad_request(fmt::format("the body is not JSON: {}", ec.message()));
  if (!body.is_object())
    return bad_request("the body must be a JSON object like {\"kind\": \"sleep\", \"args\": {...}}");
  const auto& fields = body.get_object();
  static constexpr std::string_view known[] = {"kind", "args", "name", "timeout_ms", "loop", "key"};
  for (const auto& [key, value] : fields) {
    if (std::find(std::begin(known), std::end(known), std::string_view(key)) == std::end(known)) {
      return bad_request(fmt::format("unknown field '{}'; a job request has {}", std::string_view(key),
                                     fmt::join(known, ", ")));
    }
  }

  const auto* kind = fields.if_contains("kind");
  if (kind == nullptr || !kind->is_string()) {
    return bad_request(fmt::format("'kind' is required, a string naming the job kind: {}", kinds_listing()));
  }
  out.kind = find_job_kind(kind->get_string());
  if (out.kind == nullptr) {
    return bad_request(fmt::format("kind '{}' is not known; kinds: {}", std::string_view(kind->get_string()),
                                   kinds_listing()));
  }

  static const boost::json::object no_args;
  const boost::json::object* args = &no_args;
  if (const auto* a = fields.if_contains("args")) {
    if (!a->is_object()) return bad_request("'args' must be a JSON object");
    args = &a->get_object();
  }

  if (const auto* name = fields.if_contains("name")) {
    // Names reach the log: nothing that can forge a line or disguise one (C0/C1 controls,
    // line separators, bidirectional overrides).
    const bool ok =
        name->is_string() && name->get_string().size() <= max_name_bytes && display_safe(name->get_string());
    if (!ok) {
      return bad_request(fmt::format(
          "'name' must be a string of at most {} bytes without control characters, line separators "
          "(U+2028, U+2029) or bidirectional controls (U+200E, U+200F, U+202A..U+202E, U+2066..U+2069)",
          max_name_bytes));
    }
    out.name = name->get_string();
  }

  const auto config = context.jobs->config();
  out.timeout = config.default_timeout;
  if (const auto* t = fields.if_contains("timeout_ms")) {
    const auto max = static_cast<std::uint64_t>(config.max_timeout.count());
    const auto ms = as_unsigned(*t);
    if (!ms || *ms < 1 || *ms > max) {
      return bad_request(
          fmt::format("'timeout_ms' must be an integer from 1 to {} ([jobs] max_timeout_ms)", max));
    }
    out.timeout = std::chrono::milliseconds(*ms);
  }

  const std::size_t loops = context.supervisor->size();
  const auto* loop = fields.if_contains("loop");
  const auto* key = fields.if_contains("key");
  if (loop != nullptr && key != nullptr) return bad_request("give 'loop' or 'key', not both");
  if (loop != nullptr) {
    const auto index = as_unsigned(*loop);
    if (!index || *index >= loops) {
      return bad_request(fmt::format("'loop' must be a loop index from 0 to {}", loops - 1));
    }
    out.loop = static_cast<std::size_t>(*index);
  }
  if (key != nullptr) {
    if (!key->is_string())
      return bad_request("'key' must be a string (jobs with the same key run on the same loop)");
    out.key = std::string(key->get_string());
  }

  try {
    out.body = out.kind->prepare(*args, config);
  } catch (const JobArgumentError& e) {
    return bad_request(e.what());
  } catch (const JobForbidden& e) {
    return json_error(http::status::forbidden, "job_forbidden", e.what());
  }
  return std::nullopt;
}

}  // namespace

boost::asio::awaitable<Response> jobs_create_route(RequestView request, const AdminContext& context) {
  if (auto off = jobs_off(context)) co_return std::move(*off);
  JobRequest job;
  if (auto error = read_request(request.message, context, job)) {
    // A malformed request is the access log's business; a forbidden one is audited.
    if (error->result() == http::status::forbidden) {
      audit(request.client, fmt::format("job submission refused (job_forbidden): {}",
                                        job_request_summary(request.message.body())));
    }
    co_return std::move(*error);
  }
  if (context.readiness != nullptr && context.readiness->draining()) {
    audit(request.client,
          fmt::format("job submission refused (draining): {}", job_request_summary(request.message.body())));
    co_return json_error(http::status::service_unavailable, "draining",
                         "the daemon is shutting down and takes no new jobs; send it to another instance");
  }
  // No co_return inside the catch: GCC 12 miscompiles it (docs/asyncio-to-loopvisor.md).
  std::optional<Response> answer;
  try {
    const JobSnapshot accepted = context.jobs->submit(std::move(job));
    audit(request.client, fmt::format("job {} submitted on loop {}: {}", accepted.public_id, accepted.loop,
                                      job_request_summary(request.message.body())));
    answer = json_response(http::status::accepted, to_json(accepted));
    answer->set(http::field::location, fmt::format("/v1/jobs/{}", accepted.public_id));
  } catch (const JobRejected& e) {
    audit(request.client, fmt::format("job submission refused ({}): {}", to_string(e.reason()),
                                      job_request_summary(request.message.body())));
    const bool too_many = e.reason() == JobRejected::Reason::too_many;
    answer = json_error(too_many ? http::status::too_many_requests : http::status::service_unavailable,
                        to_string(e.reason()), e.what());
    if (e.reason() != JobRejected::Reason::closed) answer->set(http::field::retry_after, "1");
  }
  co_return std::move(*answer);
}

}  // namespace loopvisor::service
