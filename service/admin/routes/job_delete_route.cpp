// DELETE /v1/jobs/{id}: cancels a job that is queued or running (202, the record stays so its
// end can be read), or forgets a finished one (200 with its last record).
#include <fmt/format.h>

#include "../../jobs/job_registry.hpp"
#include "../audit_log.hpp"
#include "job_route_support.hpp"
#include "routes.hpp"

namespace loopvisor::service {

boost::asio::awaitable<Response> job_delete_route(RequestView request, const AdminContext& context) {
  if (auto off = jobs_off(context)) co_return std::move(*off);
  const auto id = parse_job_id(context, request.id);
  if (!id) co_return unknown_job(context, request.id);
  const auto outcome = context.jobs->cancel_or_forget(*id);
  if (!outcome) co_return unknown_job(context, request.id);
  const bool cancelling = outcome->first == JobRegistry::Removal::cancelling;
  audit(request.client,
        fmt::format("job {} {} ({})", request.id, cancelling ? "cancel requested" : "forgotten",
                    to_string(outcome->second.state)));
  auto body = to_json(outcome->second);
  body["removed"] = !cancelling;
  co_return json_response(cancelling ? http::status::accepted : http::status::ok, body);
}

}  // namespace loopvisor::service
