// Checks of the public option structs: a bad value is std::invalid_argument naming the field.
#pragma once

#include "loopvisor/blocking_pool.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/supervisor.hpp"

namespace loopvisor::detail {

/// Each throws std::invalid_argument for the first field out of range (a negative value
/// converted to an unsigned field shows up as a huge one), before anything is allocated.
void check_options(const LoopOptions& options);
void check_options(const BlockingPoolOptions& options);
void check_options(const SupervisorOptions& options);

}  // namespace loopvisor::detail
