// Placement: how a Supervisor picks the loop for new work.
#pragma once

#include <optional>
#include <string_view>

namespace loopvisor {

/// - round_robin: loops in turn, skipping a loop whose queue is full.
/// - least_loaded: the loop with the smallest queue depth + active tasks (ties rotate).
/// Affinity by key is a separate call (`Supervisor::loop_for_key`): same key, same loop.
enum class Placement { round_robin, least_loaded };

const char* to_string(Placement placement) noexcept;
/// Parses "round_robin" / "least_loaded"; nullopt for anything else.
std::optional<Placement> parse_placement(std::string_view text) noexcept;

}  // namespace loopvisor
