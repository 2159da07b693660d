// Shared answers of the /v1/jobs routes.
#include "job_route_support.hpp"

#include <fmt/format.h>

#include <charconv>

namespace loopvisor::service {

std::optional<Response> jobs_off(const AdminContext& context) {
  if (context.jobs != nullptr) return std::nullopt;
  return json_error(http::status::not_found, "jobs_disabled",
                    "the job API is off in this daemon ([jobs] enabled = false)");
}

std::optional<std::uint64_t> parse_job_id(std::string_view text) {
  std::uint64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || id == 0) return std::nullopt;
  return id;
}

Response unknown_job(std::string_view id) {
  return json_error(http::status::not_found, "unknown_job",
                    fmt::format("no job has id '{}'; it never existed, or it finished and was forgotten "
                                "(DELETE, or more than [jobs] max_finished jobs finished after it)",
                                id));
}

}  // namespace loopvisor::service
