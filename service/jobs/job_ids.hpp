// JobIds: the job ids clients see, unique across restarts and replicas of the daemon.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loopvisor::service {

/// A job's id is "<boot>-<n>": `boot` is 8 hex digits drawn from the system's random source
/// when the daemon starts, `n` the job's number in this run (1, 2, ...; the order of
/// GET /v1/jobs). Two runs or two replicas draw the same boot once in 2^32, so an id from one
/// is not mistaken for a job of another: it is refused as belonging elsewhere.
///
/// Thread safety: immutable after construction.
class JobIds {
 public:
  JobIds();
  /// A fixed boot (tests); must be 8 lowercase hex digits.
  explicit JobIds(std::string boot);

  std::string format(std::uint64_t n) const;
  /// The number of one of this run's ids; nullopt for anything else.
  std::optional<std::uint64_t> parse(std::string_view id) const;
  /// Whether `id` has the shape of a job id (of this run or another).
  static bool well_formed(std::string_view id);
  const std::string& boot() const noexcept { return boot_; }

 private:
  std::string boot_;
};

/// The name job records give their owner: `configured` when set ([admin] instance, the pod's
/// name through the downward API), else the host name, else "unknown".
std::string instance_name(std::string_view configured);

}  // namespace loopvisor::service
