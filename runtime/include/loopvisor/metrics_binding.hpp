// MetricsBinding: the runtime's metrics inside a caller's prometheus::Registry.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include <chrono>
#include <memory>

namespace loopvisor {

/// Mirrors the families of `source` (a RuntimeCollector, a ProcessCollector, any Collectable)
/// into families of the caller's `registry`, for hosts that expose one Registry and nothing
/// else: prometheus-cpp 1.0.1's Registry can only hold families it built itself, so it cannot
/// take a Collectable directly.
///
/// `update()` reads `source` once and brings the registry's series up to date: gauges are set,
/// counters are incremented by what they grew (a counter that went down is left alone),
/// histograms get the per-bucket growth. With a non-zero `interval` a thread of the binding
/// ("lv-metrics") calls it that often, so the registry's values are at most `interval` old;
/// with zero the caller calls update() itself (before each scrape, say). The families are
/// removed from the registry when the binding is destroyed.
///
/// The registry must not already hold families of the same names, and the same source must
/// not also be registered with an Exposer: promtool rejects duplicate families.
///
/// Thread safety: update() from any thread; concurrent calls are serialised.
class MetricsBinding {
 public:
  MetricsBinding(prometheus::Registry& registry, std::shared_ptr<const prometheus::Collectable> source,
                 std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~MetricsBinding();
  MetricsBinding(const MetricsBinding&) = delete;
  MetricsBinding& operator=(const MetricsBinding&) = delete;

  void update();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loopvisor
