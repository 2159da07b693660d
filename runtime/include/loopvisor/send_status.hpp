// SendStatus: what a non-throwing send into a Channel did with the value.
#pragma once

namespace loopvisor {

/// `sent`: the channel took the value. `full`: no room (or none came before the timeout); the
/// value stays with the caller. `closed`: the channel refuses every send from now on.
enum class SendStatus { sent, full, closed };

}  // namespace loopvisor
