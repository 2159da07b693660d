// report_misuse: where an API misused in a destructor or noexcept path says so instead of throwing.
#pragma once

#include <string>

namespace loopvisor::detail {

/// Reports `message` through the current loop's exception handler (off a loop: the log).
/// Never throws: for destructors and noexcept paths that find the user broke a rule.
void report_misuse(const std::string& message) noexcept;

}  // namespace loopvisor::detail
