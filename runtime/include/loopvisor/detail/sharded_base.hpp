// ShardedBase: a Sharded<S> as its Supervisor sees it.
#pragma once

namespace loopvisor::detail {

/// Something to stop, in reverse order of registration, at the supervisor's shutdown.
class ShardedBase {
 public:
  virtual ~ShardedBase() = default;
  virtual void stop_shards() noexcept = 0;
};

}  // namespace loopvisor::detail
