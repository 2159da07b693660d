// Watchdog: measures each loop's scheduling lag from its own thread and flags stalled loops.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace loopvisor {

class Loop;

struct WatchdogOptions {
  /// How often each loop is probed; zero turns the watchdog off.
  std::chrono::milliseconds interval = std::chrono::milliseconds(100);
  /// A loop whose probe has waited longer than this is stalled.
  std::chrono::milliseconds stall_threshold = std::chrono::milliseconds(1000);
  /// Called on the watchdog thread after each round of probes. It must return quickly: while
  /// it runs no loop is probed (tests use it to freeze the watchdog on purpose).
  std::function<void()> on_round{};
};

/// Every `interval`, posts a probe to each loop (outside the bounded inbox) and records how
/// long the loop took to run it: the loop's scheduling lag. A loop whose outstanding probe is
/// older than `stall_threshold` — a callback blocking it, like time.sleep inside asyncio — is
/// flagged stalled and logged once with how long; the flag clears when the probe finally runs.
/// The watchdog runs on its own thread, so a stalled loop cannot hide itself.
///
/// Lag and the stalled flag are published through each loop's LoopStats (`lag`, `stalled`).
///
/// The watchdog watches itself too: `silence()` says how long ago its last round ended, so a
/// watchdog thread that stopped probing (frozen, starved of CPU) shows up instead of leaving
/// every loop looking healthy.
///
/// Thread safety: construct, stop() and destroy from any thread that is not one of the loops;
/// silence() and set_stall_threshold() from any thread.
class Watchdog {
 public:
  Watchdog(std::vector<Loop*> loops, WatchdogOptions options);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  /// Stops probing and joins the thread; idempotent.
  void stop();
  /// Changes the stall threshold from the next round on (a configuration reload). Any thread.
  void set_stall_threshold(std::chrono::milliseconds threshold) noexcept;
  std::chrono::milliseconds stall_threshold() const noexcept;
  /// Time since the last round of probes ended (since start before the first); nullopt when
  /// the watchdog is off or stopped.
  std::optional<std::chrono::steady_clock::duration> silence() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loopvisor
