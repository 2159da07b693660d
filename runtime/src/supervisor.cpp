// Supervisor: starting loop threads, placement, introspection and graceful shutdown.
#include "loopvisor/supervisor.hpp"

#include "loopvisor/cpu_count.hpp"

#include "options_check.hpp"

#include <algorithm>
#include <functional>
#include <latch>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/thread/thread.hpp>
#include "log.hpp"

#include "loop_thread.hpp"
#include "loopvisor/blocking_pool.hpp"

namespace loopvisor {

struct Supervisor::Threads {
  std::vector<boost::thread> threads;
  std::mutex mu;
  std::exception_ptr start_error;  // guarded by mu: the first on_loop_thread_start failure

  void record_start_error(std::exception_ptr e) {
    std::lock_guard g(mu);
    if (!start_error) start_error = std::move(e);
  }
};

namespace {

/// Runs the start hook on this loop thread; false (the error given to `failed`) if it threw.
template <class OnFailure>
bool run_start_hook(const std::function<void(Loop&)>& hook, Loop& loop, OnFailure failed) {
  if (!hook) return true;
  try {
    hook(loop);
    return true;
  } catch (...) {
    failed(std::current_exception());
    return false;
  }
}

/// Runs the stop hook on this loop thread; a throw is logged.
void run_stop_hook(const std::function<void(Loop&)>& hook, Loop& loop) noexcept {
  if (!hook) return;
  try {
    hook(loop);
  } catch (const std::exception& e) {
    detail::log(LogLevel::error, "{}: on_loop_thread_stop threw: {}", loop.name(), e.what());
  } catch (...) {
    detail::log(LogLevel::error, "{}: on_loop_thread_stop threw a non-standard exception", loop.name());
  }
}

}  // namespace

Supervisor::Supervisor(SupervisorOptions options)
    : options_(std::move(options)), threads_(std::make_unique<Threads>()) {
  detail::check_options(options_);
  BlockingPoolOptions pool_options;
  pool_options.threads = options_.blocking_threads;
  pool_options.max_pending = options_.blocking_max_pending;
  blocking_ = std::make_shared<BlockingPool>(pool_options);
  std::size_t n = options_.loops;
  if (n == 0) n = process_cpu_count();
  loops_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    LoopOptions lo;
    lo.index = i;
    lo.name = options_.thread_name_prefix + std::to_string(i);
    lo.submit_queue_capacity = options_.submit_queue_capacity;
    lo.drain_batch = options_.drain_batch;
    lo.exception_handler = options_.exception_handler;
    lo.slow_callback_threshold = options_.slow_callback_threshold;
    lo.spin_before_park = options_.spin_before_park;
    loops_.push_back(std::make_unique<Loop>(std::move(lo)));
    loops_.back()->set_blocking_pool(blocking_);
  }
  std::latch running(static_cast<std::ptrdiff_t>(n));
  // Unwinds what started: once each started loop runs, finish it for good and join.
  auto stop_started = [this] {
    for (std::size_t i = 0; i < threads_->threads.size(); ++i) {
      (void)loops_[i]->submit([] {}).wait_for(std::chrono::seconds(10));
      loops_[i]->close_submissions();
      loops_[i]->finish();
    }
    for (auto& t : threads_->threads) t.join();
  };
  try {
    for (std::size_t i = 0; i < n; ++i) {
      Loop& loop = *loops_[i];
      // Queued before the thread starts: runs on the loop's first turn.
      loop.call_soon_threadsafe([&running] { running.count_down(); });
      threads_->threads.emplace_back([&loop, threads = threads_.get(),
                                      on_start = options_.on_loop_thread_start,
                                      on_stop = options_.on_loop_thread_stop] {
        detail::name_this_thread(loop.name());
        const bool started = run_start_hook(
            on_start, loop, [threads](std::exception_ptr e) { threads->record_start_error(std::move(e)); });
        // A stray Loop::stop() on a supervised loop must not strand its queue: keep running
        // until the supervisor's shutdown finishes the loop.
        try {
          do {
            loop.run_forever();
          } while (!loop.finishing());
        } catch (const std::exception& e) {
          detail::log(LogLevel::critical, "{}: loop thread failed: {}", loop.name(), e.what());
        }
        if (started) run_stop_hook(on_stop, loop);
      });
      if (!options_.cpu_affinity.empty()) {
        detail::pin_thread(threads_->threads.back(), options_.cpu_affinity[i % options_.cpu_affinity.size()],
                           loop.name());
      }
    }
  } catch (...) {
    stop_started();
    throw;
  }
  running.wait();
  std::exception_ptr failed;
  {
    std::lock_guard g(threads_->mu);  // every thread has passed its start hook
    failed = threads_->start_error;
  }
  if (failed) {
    detail::log(LogLevel::error, "supervisor: an on_loop_thread_start hook failed; stopping every loop");
    stop_started();
    std::rethrow_exception(failed);
  }
  std::vector<Loop*> watched;
  for (auto& loop : loops_) watched.push_back(loop.get());
  watchdog_ = std::make_unique<Watchdog>(std::move(watched), options_.watchdog);
  detail::log(LogLevel::info, "supervisor: {} loop(s) running, placement {}, queue capacity {}", n,
              to_string(options_.placement), loops_.front()->submit_queue_capacity());
}

Supervisor::~Supervisor() {
  lifeline_->cut();  // a RuntimeCollector that outlives us reads nothing from here on
  if (owns_current_thread()) {
    detail::log(LogLevel::critical,
                "a Supervisor was destroyed from one of its own loop threads; this would deadlock");
    std::terminate();
  }
  try {
    shutdown(options_.shutdown_grace);
  } catch (const std::exception& e) {
    detail::log(LogLevel::error, "supervisor: shutdown during destruction failed: {}", e.what());
  }
}

Loop& Supervisor::loop(std::size_t index) const {
  if (index >= loops_.size()) {
    throw std::out_of_range(
        fmt::format("Supervisor::loop({}): valid indices are 0..{}", index, loops_.size() - 1));
  }
  return *loops_[index];
}

Loop& Supervisor::pick() noexcept {
  const std::size_t n = loops_.size();
  // sync: relaxed; only spreads work, orders nothing.
  const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed);
  if (options_.placement == Placement::least_loaded) {
    std::size_t best = start % n;
    std::size_t best_load = loops_[best]->load();
    for (std::size_t k = 1; k < n && best_load > 0; ++k) {
      const std::size_t i = (start + k) % n;
      const std::size_t l = loops_[i]->load();
      if (l < best_load) {
        best = i;
        best_load = l;
      }
    }
    return *loops_[best];
  }
  for (std::size_t k = 0; k < n; ++k) {
    Loop& loop = *loops_[(start + k) % n];
    if (loop.queue_depth() < loop.submit_queue_capacity()) return loop;
  }
  return *loops_[start % n];  // all full: the submission will be rejected with a clear error
}

Loop& Supervisor::loop_for_key(std::string_view key) const noexcept {
  return *loops_[std::hash<std::string_view>{}(key) % loops_.size()];
}

Loop& Supervisor::loop_for_key(std::uint64_t key) const noexcept {
  // Mix the bits so that consecutive keys spread evenly (splitmix64 finaliser).
  key ^= key >> 30;
  key *= 0xbf58476d1ce4e5b9ULL;
  key ^= key >> 27;
  key *= 0x94d049bb133111ebULL;
  key ^= key >> 31;
  return *loops_[key % loops_.size()];
}

bool Supervisor::owns_current_thread() const noexcept {
  Loop* current = Loop::current_or_null();
  return current != nullptr &&
         std::any_of(loops_.begin(), loops_.end(), [&](const auto& l) { return l.get() == current; });
}

bool Supervisor::refuse_if_closing() const noexcept {
  if (!closing_.load()) return false;
  rejected_closed_.fetch_add(1);
  return true;
}

void Supervisor::check_open() const {
  if (refuse_if_closing()) {
    throw RuntimeClosed("the supervisor is shutting down or stopped; the work was not accepted");
  }
}

ShutdownReport Supervisor::report() const {
  detail::lock_guard guard(shutdown_mu_);
  ShutdownReport r = report_;
  if (!shut_down_) return r;
  r.submissions_rejected = rejected_closed_.load();
  for (const auto& loop : loops_) r.submissions_rejected += loop->rejected_closed();
  return r;
}

bool Supervisor::is_closed() const noexcept { return closing_.load(); }

void Supervisor::set_slow_callback_threshold(std::chrono::milliseconds threshold) {
  if (threshold.count() < 0) {
    throw std::invalid_argument(
        fmt::format("slow callback threshold = {} ms is negative", threshold.count()));
  }
  for (auto& loop : loops_) detail::loop_shared(*loop)->set_slow_threshold(threshold);
}

void Supervisor::set_stall_threshold(std::chrono::milliseconds threshold) {
  if (threshold.count() < 0) {
    throw std::invalid_argument(fmt::format("stall threshold = {} ms is negative", threshold.count()));
  }
  watchdog_->set_stall_threshold(threshold);
}

std::optional<std::chrono::steady_clock::duration> Supervisor::watchdog_silence() const noexcept {
  return watchdog_->silence();
}

ShutdownReport Supervisor::shutdown(std::chrono::milliseconds grace,
                                    std::optional<std::chrono::milliseconds> blocking_join_timeout) {
  if (owns_current_thread()) {
    throw WrongThreadError(
        "Supervisor::shutdown() called from one of its own loops; it would wait for itself. "
        "Call it from a thread that runs no loop of this supervisor");
  }
  detail::lock_guard guard(shutdown_mu_);
  if (shut_down_) return report_;
  closing_.store(true);
  const auto start = Loop::clock::now();
  detail::log(LogLevel::info, "supervisor: shutting down {} loop(s), grace {} ms", loops_.size(),
              grace.count());

  for (auto& loop : loops_) loop->close_submissions();
  const auto drain_deadline = start + grace;
  std::vector<Loop*> busy;
  for (auto& loop : loops_) {
    if (!loop->wait_quiescent(drain_deadline)) busy.push_back(loop.get());
  }
  if (!busy.empty()) {
    for (Loop* loop : busy) loop->cancel_all_tasks();
    const auto cancel_deadline = Loop::clock::now() + options_.cancel_timeout;
    for (Loop* loop : busy) loop->wait_quiescent(cancel_deadline);
  }

  std::vector<detail::ShardedBase*> services;
  {
    detail::lock_guard g(services_mu_);
    services = services_;
  }
  for (auto it = services.rbegin(); it != services.rend(); ++it) (*it)->stop_shards();

  watchdog_->stop();  // its probes would only wait on loops that are about to stop
  for (auto& loop : loops_) loop->finish();
  for (auto& thread : threads_->threads) thread.join();
  // After the loops: jobs already accepted still run to completion (in the background if they
  // outlast the bound).
  const std::size_t unfinished = blocking_->shutdown(blocking_join_timeout);
  if (unfinished > 0) {
    detail::log(
        LogLevel::warn,
        "supervisor: {} blocking-pool job(s) still running after {} ms; left to finish in the background",
        unfinished, blocking_join_timeout ? blocking_join_timeout->count() : 0);
  }

  ShutdownReport total;
  for (auto& loop : loops_) total += loop->report();
  total.blocking_jobs_unfinished = unfinished;
  total.submissions_rejected += rejected_closed_.load();
  total.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Loop::clock::now() - start);
  report_ = total;
  shut_down_ = true;
  detail::log(LogLevel::info, "supervisor: shut down: {}", total.to_string());
  return total;
}

std::vector<TaskInfo> Supervisor::all_tasks(std::chrono::milliseconds timeout) {
  if (owns_current_thread()) {
    throw WrongThreadError(
        "Supervisor::all_tasks() blocks; call it off the supervisor's loops, "
        "or use Loop::all_tasks() on a loop");
  }
  std::vector<ThreadFuture<std::vector<TaskInfo>>> answers;
  for (auto& loop : loops_) answers.push_back(loop->snapshot_tasks());
  std::vector<TaskInfo> out;
  const auto deadline = Loop::clock::now() + timeout;
  for (auto& answer : answers) {
    if (!answer.wait_for(deadline - Loop::clock::now())) continue;  // a stalled loop: skip it
    auto part = answer.get();
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

std::vector<LoopStats> Supervisor::stats() const {
  std::vector<LoopStats> out;
  out.reserve(loops_.size());
  for (const auto& loop : loops_) out.push_back(loop->stats());
  return out;
}

void Supervisor::add_service(detail::ShardedBase* service) {
  detail::lock_guard g(services_mu_);
  services_.push_back(service);
}

void Supervisor::remove_service(detail::ShardedBase* service) noexcept {
  detail::lock_guard g(services_mu_);
  std::erase(services_, service);
}

}  // namespace loopvisor
