// Umbrella header: everything a user of the loopvisor runtime needs.
#pragma once

#include "loopvisor/errors.hpp"
#include "loopvisor/exception_context.hpp"
#include "loopvisor/handle.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/placement.hpp"
#include "loopvisor/sharded.hpp"
#include "loopvisor/shutdown_report.hpp"
#include "loopvisor/supervisor.hpp"
#include "loopvisor/task.hpp"
#include "loopvisor/task_status.hpp"
#include "loopvisor/thread_future.hpp"
#include "loopvisor/version.hpp"
