// RuntimeCollector: per-loop counters, lag histogram, blocking pool and build info, at scrape time.
#include "loopvisor/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <limits>
#include <sstream>

#include "loopvisor/blocking_pool.hpp"
#include "loopvisor/build_info.hpp"
#include "loopvisor/supervisor.hpp"
#include "loopvisor/version.hpp"

namespace loopvisor {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric sample(std::vector<ClientMetric::Label> labels, MetricType type, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

/// One loop's sample of a histogram family: cumulative buckets, then +Inf, count and sum.
template <std::size_t N>
ClientMetric histogram_sample(std::size_t loop, const detail::OwnedHistogram<N>& h) {
  ClientMetric m;
  m.label = {{"loop", std::to_string(loop)}};
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < N; ++b) {
    cumulative += h.bucket(b);
    m.histogram.bucket.push_back({cumulative, h.bounds()[b]});
  }
  cumulative += h.bucket(N);
  m.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
  // The buckets' total, not h.count(): read apart, the two could disagree for a scrape.
  m.histogram.sample_count = cumulative;
  m.histogram.sample_sum = h.sum_seconds();
  return m;
}

}  // namespace

RuntimeCollector::RuntimeCollector(const Supervisor& supervisor) : supervisor_(supervisor.lifeline_) {}

namespace {

void collect_supervisor(const Supervisor& supervisor, std::vector<MetricFamily>& out) {
  struct Def {
    const char* name;
    const char* help;
    MetricType type;
    double (*read)(const LoopStats&);
  };
  static const Def defs[] = {
      {"loopvisor_loop_callbacks_total",
       "Cross-thread callbacks the loop ran (incremented after each one runs).", MetricType::Counter,
       [](const LoopStats& s) { return double(s.callbacks_run); }},
      {"loopvisor_loop_submissions_accepted_total",
       "Submissions the loop's queue accepted (call_soon_threadsafe, run_coroutine_threadsafe, submit).",
       MetricType::Counter, [](const LoopStats& s) { return double(s.submissions_accepted); }},
      {"loopvisor_loop_submissions_rejected_total",
       "Submissions refused at once because the queue was full or the loop was closing.", MetricType::Counter,
       [](const LoopStats& s) { return double(s.submissions_rejected); }},
      {"loopvisor_loop_busy_seconds_total",
       "Wall time the loop spent running callbacks, timer callbacks and task steps (counted when each "
       "ends).",
       MetricType::Counter, [](const LoopStats& s) { return std::chrono::duration<double>(s.busy).count(); }},
      {"loopvisor_loop_queue_depth", "Cross-thread submissions waiting in the loop's queue.",
       MetricType::Gauge, [](const LoopStats& s) { return double(s.queue_depth); }},
      {"loopvisor_loop_tasks_started_total", "Tasks created on the loop.", MetricType::Counter,
       [](const LoopStats& s) { return double(s.tasks_started); }},
      {"loopvisor_loop_tasks_active", "Tasks on the loop that have not ended.", MetricType::Gauge,
       [](const LoopStats& s) { return double(s.tasks_active); }},
      {"loopvisor_loop_slow_callbacks_total",
       "Callbacks or task steps that held the loop longer than the slow-callback threshold.",
       MetricType::Counter, [](const LoopStats& s) { return double(s.slow_callbacks); }},
      {"loopvisor_loop_stalled", "1 while the watchdog finds the loop stalled, else 0.", MetricType::Gauge,
       [](const LoopStats& s) { return s.stalled ? 1.0 : 0.0; }},
      {"loopvisor_loop_stalls_total",
       "Stalls the watchdog found (each counted once as it begins; catches stalls between scrapes).",
       MetricType::Counter, [](const LoopStats& s) { return double(s.stalls); }},
      {"loopvisor_loop_queue_capacity",
       "Capacity of the loop's cross-thread submission queue (saturation = queue_depth / queue_capacity).",
       MetricType::Gauge, [](const LoopStats& s) { return double(s.queue_capacity); }},
      {"loopvisor_loop_unhandled_exceptions_total",
       "Failures reported to the loop's exception handler (throwing callbacks, unretrieved task errors, "
       "...).",
       MetricType::Counter, [](const LoopStats& s) { return double(s.unhandled_exceptions); }},
  };

  const auto stats = supervisor.stats();
  for (const auto& def : defs) {
    auto f = family(def.name, def.help, def.type);
    for (const auto& s : stats)
      f.metric.push_back(sample({{"loop", std::to_string(s.index)}}, def.type, def.read(s)));
    out.push_back(std::move(f));
  }

  auto finished = family("loopvisor_loop_tasks_finished_total",
                         "Tasks that ended, by outcome (ok, error, cancelled).", MetricType::Counter);
  for (const auto& s : stats) {
    const std::string loop = std::to_string(s.index);
    finished.metric.push_back(
        sample({{"loop", loop}, {"outcome", "ok"}}, MetricType::Counter, double(s.tasks_done_ok)));
    finished.metric.push_back(
        sample({{"loop", loop}, {"outcome", "error"}}, MetricType::Counter, double(s.tasks_done_error)));
    finished.metric.push_back(
        sample({{"loop", loop}, {"outcome", "cancelled"}}, MetricType::Counter, double(s.tasks_cancelled)));
  }
  out.push_back(std::move(finished));

  auto lag = family("loopvisor_loop_lag_seconds",
                    "Scheduling lag: how long a watchdog probe waited before the loop ran it.",
                    MetricType::Histogram);
  auto slow = family("loopvisor_loop_slow_callback_duration_seconds",
                     "How long each slow callback or task step (over the slow-callback threshold) held "
                     "the loop.",
                     MetricType::Histogram);
  for (std::size_t i = 0; i < supervisor.size(); ++i) {
    lag.metric.push_back(histogram_sample(i, detail::loop_health(supervisor.loop(i))->lag()));
    slow.metric.push_back(histogram_sample(i, detail::loop_shared(supervisor.loop(i))->slow_durations()));
  }
  out.push_back(std::move(lag));
  out.push_back(std::move(slow));

  auto& pool = supervisor.blocking_pool();
  auto pool_depth = family("loopvisor_blocking_pool_queue_depth",
                           "Blocking-pool jobs accepted and not yet started.", MetricType::Gauge);
  pool_depth.metric.push_back(
      sample({}, MetricType::Gauge, double(pool.pending() - std::min(pool.pending(), pool.busy()))));
  out.push_back(std::move(pool_depth));
  auto pool_busy = family("loopvisor_blocking_pool_busy_threads", "Blocking-pool threads running a job now.",
                          MetricType::Gauge);
  pool_busy.metric.push_back(sample({}, MetricType::Gauge, double(pool.busy())));
  out.push_back(std::move(pool_busy));
  auto pool_threads =
      family("loopvisor_blocking_pool_threads",
             "Threads of the blocking pool (busy_threads / threads: its utilisation).", MetricType::Gauge);
  pool_threads.metric.push_back(sample({}, MetricType::Gauge, double(pool.threads())));
  out.push_back(std::move(pool_threads));
  auto pool_capacity = family("loopvisor_blocking_pool_max_pending",
                              "Jobs the blocking pool holds at most, queued and running; past it, "
                              "submissions are refused.",
                              MetricType::Gauge);
  pool_capacity.metric.push_back(sample({}, MetricType::Gauge, double(pool.max_pending())));
  out.push_back(std::move(pool_capacity));
  auto pool_rejected = family("loopvisor_blocking_pool_rejected_total",
                              "Blocking-pool jobs refused because the pool was full (SubmissionRejected).",
                              MetricType::Counter);
  pool_rejected.metric.push_back(sample({}, MetricType::Counter, double(pool.rejected())));
  out.push_back(std::move(pool_rejected));
}

}  // namespace

std::vector<MetricFamily> RuntimeCollector::Collect() const {
  std::vector<MetricFamily> out;
  supervisor_->with([&](const Supervisor& supervisor) { collect_supervisor(supervisor, out); });
  auto build =
      family("loopvisor_build_info", "Always 1; the labels say which build is running.", MetricType::Gauge);
  const auto info = build_info();
  build.metric.push_back(sample({{"boost", info.boost},
                                 {"compiler", info.compiler},
                                 {"revision", info.revision},
                                 {"version", info.version}},
                                MetricType::Gauge, 1.0));
  out.push_back(std::move(build));
  return out;
}

std::string serialize_metrics(const std::vector<MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace loopvisor
