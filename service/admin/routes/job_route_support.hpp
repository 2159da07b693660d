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

/// The id in /v1/jobs/{id}, or a 404 naming the bad id.
std::optional<std::uint64_t> parse_job_id(std::string_view text);
Response unknown_job(std::string_view id);

}  // namespace loopvisor::service
