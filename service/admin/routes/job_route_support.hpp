// What the /v1/jobs routes share: the "jobs are off" answer and job id parsing.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "../admin_context.hpp"
#include "../http_types.hpp"

namespace loopvisor::service {

/// 404 when the daemon runs without the job API.
std::optional<Response> jobs_off(const AdminContext& context);

/// The number of the job /v1/jobs/{id} names (JobIds), or nullopt: then unknown_job() says why.
std::optional<std::uint64_t> parse_job_id(const AdminContext& context, std::string_view text);
/// 404 for an id that names no job here; for an id of another run or replica, it says so.
Response unknown_job(const AdminContext& context, std::string_view id);

}  // namespace loopvisor::service
