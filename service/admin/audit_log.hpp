// The audit log: one line per job submission (accepted or refused for a reason other than a
// malformed request) and per cancellation, naming the client; for exec, the argv.
#pragma once

#include <string>
#include <string_view>

namespace loopvisor::service {

/// What a job request body asks for, as an audit line shows it: `kind=... name=...`, and for
/// exec `argv=[...]` (JSON, cut at 1 KiB). Text that could forge or disguise a log line is
/// replaced by a note; a body that is not a job request gives "kind=?".
std::string job_request_summary(std::string_view body);

/// Logs `audit: <event> (client <client>)` at info (a log level of warn or above silences it,
/// as it does the access log).
void audit(std::string_view client, std::string_view event);

}  // namespace loopvisor::service
