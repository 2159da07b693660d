// SubmitStatus: what a non-throwing submission to a loop did with the callable.
#pragma once

namespace loopvisor {

/// `accepted`: the loop will run it. `full`: the submission queue had no room. `closed`: the
/// loop refuses every submission from now on. On `full` and `closed` the callable was not run
/// and has been destroyed on the caller's thread.
enum class SubmitStatus { accepted, full, closed };

/// "accepted", "full" or "closed".
constexpr const char* to_string(SubmitStatus status) noexcept {
  switch (status) {
    case SubmitStatus::accepted:
      return "accepted";
    case SubmitStatus::full:
      return "full";
    case SubmitStatus::closed:
      return "closed";
  }
  return "unknown";
}

}  // namespace loopvisor
