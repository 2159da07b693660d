// Shared answers of the /v1/jobs routes.
#include "job_route_support.hpp"

#include <fmt/format.h>

#include "../../jobs/job_registry.hpp"
#include "../../text.hpp"

namespace loopvisor::service {

std::optional<Response> jobs_off(const AdminContext& context) {
  if (context.jobs != nullptr) return std::nullopt;
  return json_error(http::status::not_found, "jobs_disabled",
                    "the job API is off in this daemon ([jobs] enabled = false)");
}

std::optional<std::uint64_t> parse_job_id(const AdminContext& context, std::string_view text) {
  return context.jobs->ids().parse(text);
}

Response unknown_job(const AdminContext& context, std::string_view id) {
  const auto& ids = context.jobs->ids();
  if (JobIds::well_formed(id) && !id.starts_with(ids.boot() + "-")) {
    return json_error(http::status::not_found, "unknown_job",
                      fmt::format("job '{}' is not one of this daemon's (instance '{}', whose job ids start "
                                  "with '{}-'): another replica or an earlier run owns it, and job records "
                                  "are not shared between them",
                                  id, context.jobs->instance(), ids.boot()));
  }
  return json_error(http::status::not_found, "unknown_job",
                    fmt::format("no job has id '{}'; it never existed, or it finished and was forgotten "
                                "(DELETE, or more than [jobs] max_finished jobs finished after it)",
                                display_safe(id) ? std::string(id) : std::string("<not display-safe>")));
}

}  // namespace loopvisor::service
