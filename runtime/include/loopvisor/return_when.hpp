// ReturnWhen: when a wait over many tasks or futures returns (asyncio.wait, concurrent.futures.wait).
#pragma once

namespace loopvisor {

/// FIRST_COMPLETED, FIRST_EXCEPTION (a cancelled one is not an exception; with no exception it
/// is ALL_COMPLETED), ALL_COMPLETED.
enum class ReturnWhen { first_completed, first_exception, all_completed };

}  // namespace loopvisor
