// Placement names.
#include "loopvisor/placement.hpp"

namespace loopvisor {

const char* to_string(Placement placement) noexcept {
  switch (placement) {
    case Placement::round_robin:
      return "round_robin";
    case Placement::least_loaded:
      return "least_loaded";
  }
  return "unknown";
}

std::optional<Placement> parse_placement(std::string_view text) noexcept {
  if (text == "round_robin") return Placement::round_robin;
  if (text == "least_loaded") return Placement::least_loaded;
  return std::nullopt;
}

}  // namespace loopvisor
