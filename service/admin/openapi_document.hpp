// The admin API's OpenAPI 3.1 document (service/admin/openapi.json), as GET /openapi.json serves it.
#pragma once

#include <string_view>

namespace loopvisor::service {

/// The JSON text of service/admin/openapi.json, compiled in at build time.
std::string_view openapi_document() noexcept;

}  // namespace loopvisor::service
