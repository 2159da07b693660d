// JobRegistry: records under one mutex; each job's task moves its own record along.
#include "job_registry.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <functional>
#include <mutex>

#include "loopvisor/errors.hpp"
#include "loopvisor/loop.hpp"
#include "loopvisor/timeout.hpp"

namespace loopvisor::service {

namespace {

/// One job's record and what its task needs. `snapshot` and `waiters` are guarded by
/// Shared::mu; `body` and `timeout` are only touched by the job's task.
struct Entry {
  JobSnapshot snapshot;
  JobBody body;
  ThreadFuture<void> future;                               // set once submitted; guarded by Shared::mu
  std::map<std::uint64_t, std::function<void()>> waiters;  // by token; see on_final()
};

}  // namespace

struct JobRegistry::Shared {
  explicit Shared(config::JobsConfig c) : config(std::move(c)) {}

  mutable std::mutex mu;
  config::JobsConfig config;                             // guarded by mu; replaced by set_config
  std::map<std::uint64_t, std::shared_ptr<Entry>> jobs;  // guarded by mu, in id order
  std::deque<std::uint64_t> finished_order;              // guarded by mu: ids as they ended
  std::size_t final_records = 0;                         // guarded by mu
  std::uint64_t next_id = 1;                             // guarded by mu
  std::uint64_t next_waiter = 1;                         // guarded by mu
  JobCounts counts;                                      // guarded by mu (retained computed)

  /// queued → running; false if the job was cancelled before its task began.
  bool start(Entry& entry) {
    std::lock_guard guard(mu);
    if (entry.snapshot.state != JobState::queued) return false;
    entry.snapshot.state = JobState::running;
    entry.snapshot.started = std::chrono::system_clock::now();
    return true;
  }

  /// Any state not final → `state`; no-op if already final.
  void finish(Entry& entry, JobState state, boost::json::value result, std::string error) {
    JobSnapshot ended;
    {
      std::lock_guard guard(mu);
      auto& s = entry.snapshot;
      if (is_final(s.state)) return;
      s.state = state;
      s.finished = std::chrono::system_clock::now();
      s.result = std::move(result);
      s.error = std::move(error);
      --counts.active;
      ++counts.finished[{s.kind, std::string(to_string(state))}];
      // Woken under the lock, so drop_waiters() never races a wake-up (which only posts).
      for (auto& [token, wake] : entry.waiters) wake();
      entry.waiters.clear();
      ++final_records;
      finished_order.push_back(s.id);
      forget_oldest();
      ended.public_id = s.public_id;
      ended.kind = s.kind;
      ended.name = s.name;
      ended.loop = s.loop;
      ended.error = s.error;
    }
    // Outside the lock. Success is routine (debug); every other end is worth a line at info.
    spdlog::log(state == JobState::succeeded ? spdlog::level::debug : spdlog::level::info,
                "job {} ({} '{}') on loop {} ended {}{}{}", ended.public_id, ended.kind, ended.name,
                ended.loop, to_string(state), ended.error.empty() ? "" : ": ", ended.error);
  }

  /// Drops the oldest final records beyond max_finished. Caller holds mu.
  void forget_oldest() {
    while (final_records > config.max_finished && !finished_order.empty()) {
      const auto id = finished_order.front();
      finished_order.pop_front();
      const auto it = jobs.find(id);
      if (it != jobs.end() && is_final(it->second->snapshot.state)) {
        jobs.erase(it);
        --final_records;
      }
    }
  }

  std::string cancel_message(const Entry& entry) const {
    return entry.snapshot.cancel_requested ? "cancelled by a DELETE request"
                                           : "cancelled by the daemon's shutdown";
  }
};

namespace {

boost::asio::awaitable<void> run_job(std::shared_ptr<JobRegistry::Shared> shared,
                                     std::shared_ptr<Entry> entry) {
  if (!shared->start(*entry)) co_return;
  JobState end = JobState::succeeded;
  boost::json::value result;
  std::string error;
  std::exception_ptr cancelled;
  auto scope = timeout(entry->snapshot.timeout);  // read-only after submit
  try {
    result = co_await scope.run(entry->body());
  } catch (const CancelledError&) {
    cancelled = std::current_exception();
  } catch (const TimeoutError& e) {
    end = scope.expired() ? JobState::timed_out : JobState::failed;
    error = scope.expired() ? fmt::format("ran longer than its time limit of {} ms and was cancelled",
                                          entry->snapshot.timeout.count())
                            : std::string(e.what());
  } catch (const JobFailure& e) {
    end = JobState::failed;
    error = e.what();
    result = e.result();
  } catch (const std::exception& e) {
    end = JobState::failed;
    error = e.what();
  } catch (...) {
    end = JobState::failed;
    error = "failed with an exception that is not a std::exception";
  }
  entry->body = nullptr;  // what it captured goes now, not with the record
  if (cancelled) {
    std::string message;
    {
      std::lock_guard guard(shared->mu);
      message = shared->cancel_message(*entry);
    }
    shared->finish(*entry, JobState::cancelled, nullptr, std::move(message));
    std::rethrow_exception(cancelled);  // the task ends cancelled, as it was
  }
  shared->finish(*entry, end, std::move(result), std::move(error));
}

}  // namespace

std::string_view to_string(JobRejected::Reason reason) noexcept {
  switch (reason) {
    case JobRejected::Reason::too_many:
      return "too_many";
    case JobRejected::Reason::loop_busy:
      return "loop_busy";
    case JobRejected::Reason::closed:
      return "closed";
  }
  return "unknown";
}

JobRegistry::JobRegistry(Supervisor& supervisor, config::JobsConfig config, std::string instance)
    : supervisor_(supervisor),
      shared_(std::make_shared<Shared>(std::move(config))),
      instance_(std::move(instance)) {
  // spdlog makes its registry on first use. Jobs log from the loop threads, two of which could
  // be first at once; its (uninstrumented) static guard then shows as a race under TSan. Make
  // it here, before any job is submitted to a loop.
  (void)spdlog::default_logger_raw();
}

JobRegistry::~JobRegistry() = default;

config::JobsConfig JobRegistry::config() const {
  std::lock_guard guard(shared_->mu);
  return shared_->config;
}

void JobRegistry::set_config(config::JobsConfig config) {
  std::lock_guard guard(shared_->mu);
  std::swap(shared_->config, config);  // the old one is freed outside the lock
}

JobSnapshot JobRegistry::submit(JobRequest request) {
  auto& shared = *shared_;
  const std::string kind(request.kind->name);
  auto reject = [&](JobRejected::Reason reason, const std::string& message) {
    ++shared.counts.rejected[std::string(to_string(reason))];
    return JobRejected(reason, message);
  };
  Loop* loop = nullptr;
  if (!supervisor_.is_closed()) {
    loop = request.loop  ? &supervisor_.loop(*request.loop)
           : request.key ? &supervisor_.loop_for_key(*request.key)
                         : &supervisor_.pick();
  }
  auto entry = std::make_shared<Entry>();
  {
    std::lock_guard guard(shared.mu);
    if (loop == nullptr)
      throw reject(JobRejected::Reason::closed, "the runtime is shutting down; no new jobs");
    if (shared.counts.active >= shared.config.max_active) {
      throw reject(JobRejected::Reason::too_many,
                   fmt::format("{} jobs are queued or running, the most [jobs] max_active allows; retry when "
                               "one has finished",
                               shared.counts.active));
    }
    auto& s = entry->snapshot;
    s.id = shared.next_id++;
    s.public_id = ids_.format(s.id);
    s.instance = instance_;
    s.kind = kind;
    s.name = request.name.empty() ? fmt::format("{}-{}", kind, s.id) : std::move(request.name);
    s.loop = loop->index();
    s.timeout = request.timeout;
    s.created = std::chrono::system_clock::now();
    entry->body = std::move(request.body);
    shared.jobs.emplace(s.id, entry);
    ++shared.counts.active;  // reserved now, so max_active holds across racing submitters
  }
  const auto id = entry->snapshot.id;
  const auto public_id = entry->snapshot.public_id;
  ThreadFuture<void> future;
  try {
    future = loop->run_coroutine_threadsafe(run_job(shared_, entry), fmt::format("job {}", public_id));
  } catch (const Error& e) {
    // Not accepted after all: no record, nothing runs.
    std::lock_guard guard(shared.mu);
    shared.jobs.erase(id);
    --shared.counts.active;
    const bool closed = dynamic_cast<const RuntimeClosed*>(&e) != nullptr;
    throw reject(closed ? JobRejected::Reason::closed : JobRejected::Reason::loop_busy,
                 closed ? std::string("the runtime is shutting down; no new jobs")
                        : fmt::format("loop {} cannot take more work now ({}); retry shortly", loop->index(),
                                      e.what()));
  }
  // A job cancelled before its task began never runs run_job's body: record it here.
  future.add_done_callback([weak = std::weak_ptr<Shared>(shared_), entry](ThreadFuture<void> f) {
    const auto shared = weak.lock();
    if (!shared || !f.cancelled()) return;
    std::string message;
    {
      std::lock_guard guard(shared->mu);
      if (entry->snapshot.state != JobState::queued) return;  // its task records the end
      message = shared->cancel_message(*entry) + " before it started";
    }
    shared->finish(*entry, JobState::cancelled, nullptr, std::move(message));
  });
  std::lock_guard guard(shared.mu);
  ++shared.counts.submitted[kind];
  entry->future = future;
  return entry->snapshot;
}

std::optional<JobSnapshot> JobRegistry::get(std::uint64_t id) const {
  std::lock_guard guard(shared_->mu);
  const auto it = shared_->jobs.find(id);
  if (it == shared_->jobs.end()) return std::nullopt;
  return it->second->snapshot;
}

JobRegistry::Page JobRegistry::list(std::optional<JobState> state, std::size_t offset,
                                    std::size_t limit) const {
  Page page;
  std::lock_guard guard(shared_->mu);
  for (const auto& [id, entry] : shared_->jobs) {
    if (state && entry->snapshot.state != *state) continue;
    if (page.total >= offset && page.jobs.size() < limit) page.jobs.push_back(summary_of(entry->snapshot));
    ++page.total;
  }
  return page;
}

std::optional<std::pair<JobRegistry::Removal, JobSnapshot>> JobRegistry::cancel_or_forget(std::uint64_t id) {
  auto& shared = *shared_;
  std::shared_ptr<Entry> entry;
  ThreadFuture<void> future;
  {
    std::lock_guard guard(shared.mu);
    const auto it = shared.jobs.find(id);
    if (it == shared.jobs.end()) return std::nullopt;
    entry = it->second;
    if (is_final(entry->snapshot.state)) {
      JobSnapshot gone = entry->snapshot;
      shared.jobs.erase(it);
      --shared.final_records;
      return std::pair{Removal::forgotten, std::move(gone)};
    }
    entry->snapshot.cancel_requested = true;
    future = entry->future;
  }
  // Outside the lock: a queued job's done callback records its end at once, here.
  if (future.valid()) future.cancel();
  std::lock_guard guard(shared.mu);
  return std::pair{Removal::cancelling, entry->snapshot};
}

std::optional<std::uint64_t> JobRegistry::on_final(std::uint64_t id, std::function<void()> wake) {
  std::lock_guard guard(shared_->mu);
  const auto it = shared_->jobs.find(id);
  if (it == shared_->jobs.end() || is_final(it->second->snapshot.state)) return std::nullopt;
  const std::uint64_t token = shared_->next_waiter++;
  it->second->waiters.emplace(token, std::move(wake));
  return token;
}

void JobRegistry::forget_waiter(std::uint64_t id, std::uint64_t token) noexcept {
  std::lock_guard guard(shared_->mu);
  if (const auto it = shared_->jobs.find(id); it != shared_->jobs.end()) it->second->waiters.erase(token);
}

void JobRegistry::drop_waiters() noexcept {
  std::lock_guard guard(shared_->mu);
  for (auto& [id, entry] : shared_->jobs) entry->waiters.clear();
}

std::string describe_jobs_between(const JobCounts& before, const JobCounts& after) {
  std::map<std::string, std::uint64_t> ended;  // by final state
  for (const auto& [key, n] : after.finished) {
    const auto it = before.finished.find(key);
    const auto earlier = it == before.finished.end() ? 0 : it->second;
    if (n > earlier) ended[key.second] += n - earlier;
  }
  std::vector<std::string> parts;
  for (const auto& [state, n] : ended) parts.push_back(fmt::format("{} {}", n, state));
  return fmt::format("jobs: {} active at the start, {} at the end; ended: {}", before.active, after.active,
                     parts.empty() ? std::string("none") : fmt::format("{}", fmt::join(parts, ", ")));
}

JobCounts JobRegistry::counts() const {
  std::lock_guard guard(shared_->mu);
  JobCounts out = shared_->counts;
  out.retained = shared_->jobs.size();
  for (const auto& [id, entry] : shared_->jobs) {
    out.waiting += entry->waiters.size();
    if (entry->snapshot.state == JobState::queued) ++out.queued;
    if (entry->snapshot.state == JobState::running) ++out.running;
  }
  return out;
}

}  // namespace loopvisor::service
