// MetricsBinding: translate a Collectable's snapshot into Registry families, series by series.
#include "loopvisor/metrics_binding.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include "log.hpp"

#include <map>
#include <thread>
#include <variant>

#include "loop_thread.hpp"
#include "loopvisor/detail/sync.hpp"

namespace loopvisor {

namespace {

prometheus::Labels labels_of(const prometheus::ClientMetric& m) {
  prometheus::Labels labels;
  for (const auto& l : m.label) labels.emplace(l.name, l.value);
  return labels;
}

std::string series_key(const std::string& family, const prometheus::Labels& labels) {
  std::string key = family;
  for (const auto& [name, value] : labels) key += '\0' + name + '=' + value;
  return key;
}

}  // namespace

struct MetricsBinding::Impl {
  struct CounterSeries {
    prometheus::Counter* metric;
    double last;
  };
  struct GaugeSeries {
    prometheus::Gauge* metric;
  };
  struct HistogramSeries {
    prometheus::Histogram* metric;
    std::vector<std::uint64_t> last_cumulative;
    double last_sum;
  };
  using Series = std::variant<CounterSeries, GaugeSeries, HistogramSeries>;
  struct Families {
    std::map<std::string, prometheus::Family<prometheus::Counter>*> counters;
    std::map<std::string, prometheus::Family<prometheus::Gauge>*> gauges;
    std::map<std::string, prometheus::Family<prometheus::Histogram>*> histograms;
  };

  prometheus::Registry& registry;
  std::shared_ptr<const prometheus::Collectable> source;
  detail::mutex mu;
  Families families;                     // guarded by mu
  std::map<std::string, Series> series;  // guarded by mu
  detail::mutex stop_mu;
  detail::condition_variable stop_cv;
  bool stopping = false;  // guarded by stop_mu
  std::thread thread;

  Impl(prometheus::Registry& r, std::shared_ptr<const prometheus::Collectable> s)
      : registry(r), source(std::move(s)) {}

  template <class T, class Builder>
  prometheus::Family<T>& family(std::map<std::string, prometheus::Family<T>*>& known, Builder builder,
                                const prometheus::MetricFamily& f) {
    auto& slot = known[f.name];
    if (slot == nullptr) slot = &builder.Name(f.name).Help(f.help).Register(registry);
    return *slot;
  }

  void apply(const prometheus::MetricFamily& f, const prometheus::ClientMetric& m) {
    const auto labels = labels_of(m);
    const auto key = series_key(f.name, labels);
    auto it = series.find(key);
    switch (f.type) {
      case prometheus::MetricType::Counter: {
        if (it == series.end()) {
          auto& fam = family(families.counters, prometheus::BuildCounter(), f);
          it = series.emplace(key, CounterSeries{&fam.Add(labels), 0.0}).first;
        }
        auto& s = std::get<CounterSeries>(it->second);
        if (m.counter.value > s.last) s.metric->Increment(m.counter.value - s.last);
        s.last = m.counter.value;
        break;
      }
      case prometheus::MetricType::Gauge: {
        if (it == series.end()) {
          auto& fam = family(families.gauges, prometheus::BuildGauge(), f);
          it = series.emplace(key, GaugeSeries{&fam.Add(labels)}).first;
        }
        std::get<GaugeSeries>(it->second).metric->Set(m.gauge.value);
        break;
      }
      case prometheus::MetricType::Histogram: {
        const auto& buckets = m.histogram.bucket;
        if (buckets.empty()) break;
        if (it == series.end()) {
          prometheus::Histogram::BucketBoundaries bounds;
          for (std::size_t i = 0; i + 1 < buckets.size(); ++i) bounds.push_back(buckets[i].upper_bound);
          auto& fam = family(families.histograms, prometheus::BuildHistogram(), f);
          it = series
                   .emplace(key, HistogramSeries{&fam.Add(labels, bounds),
                                                 std::vector<std::uint64_t>(buckets.size()), 0.0})
                   .first;
        }
        auto& s = std::get<HistogramSeries>(it->second);
        if (s.last_cumulative.size() != buckets.size()) break;  // the source changed its buckets
        std::vector<double> growth(buckets.size());
        std::uint64_t previous_now = 0, previous_then = 0;
        bool grew = false;
        for (std::size_t i = 0; i < buckets.size(); ++i) {
          // Cumulative counts to per-bucket counts, then what each bucket gained.
          const auto now = buckets[i].cumulative_count - previous_now;
          const auto then = s.last_cumulative[i] - previous_then;
          previous_now = buckets[i].cumulative_count;
          previous_then = s.last_cumulative[i];
          growth[i] = now > then ? static_cast<double>(now - then) : 0.0;
          grew = grew || growth[i] > 0;
          s.last_cumulative[i] = buckets[i].cumulative_count;
        }
        if (grew) s.metric->ObserveMultiple(growth, std::max(0.0, m.histogram.sample_sum - s.last_sum));
        s.last_sum = m.histogram.sample_sum;
        break;
      }
      default:
        break;  // summaries and untyped: not produced by loopvisor's collectors
    }
  }

  void run(std::chrono::milliseconds interval, MetricsBinding* self) {
    detail::name_this_thread("lv-metrics");
    detail::unique_lock lock(stop_mu);
    while (!stop_cv.wait_for(lock, interval, [&] { return stopping; })) {
      lock.unlock();
      self->update();
      lock.lock();
    }
  }
};

MetricsBinding::MetricsBinding(prometheus::Registry& registry,
                               std::shared_ptr<const prometheus::Collectable> source,
                               std::chrono::milliseconds interval)
    : impl_(std::make_unique<Impl>(registry, std::move(source))) {
  update();  // the families exist from the start
  if (interval.count() > 0) impl_->thread = std::thread([this, interval] { impl_->run(interval, this); });
}

MetricsBinding::~MetricsBinding() {
  {
    detail::lock_guard g(impl_->stop_mu);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  for (auto& [name, f] : impl_->families.counters) impl_->registry.Remove(*f);
  for (auto& [name, f] : impl_->families.gauges) impl_->registry.Remove(*f);
  for (auto& [name, f] : impl_->families.histograms) impl_->registry.Remove(*f);
}

void MetricsBinding::update() {
  try {
    const auto snapshot = impl_->source->Collect();
    detail::lock_guard g(impl_->mu);
    for (const auto& f : snapshot) {
      for (const auto& m : f.metric) impl_->apply(f, m);
    }
  } catch (const std::exception& e) {
    detail::log(LogLevel::warn, "metrics binding: update failed: {}", e.what());
  }
}

}  // namespace loopvisor
