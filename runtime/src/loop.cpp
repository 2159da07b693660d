// Loop: running, scheduling, cross-thread submission and the shutdown phases of one loop.
#include "loopvisor/loop.hpp"

#include <fmt/format.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/post.hpp>
#include "log.hpp"
#include "loopvisor/cpu_count.hpp"

#include "loop_impl.hpp"
#include "loopvisor/detail/task_executor.hpp"
#include "options_check.hpp"

namespace loopvisor {

namespace {
std::string loop_name(const LoopOptions& options) {
  return options.name.empty() ? "loop-" + std::to_string(options.index) : options.name;
}
constexpr int max_ready_rounds = 1000;  // bound on draining already-queued handlers at finish
}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl

Loop::Impl::Impl(Loop& owner, const LoopOptions& opts)
    : self(owner), options(opts), inbox((detail::check_options(opts), opts.submit_queue_capacity)) {
  if (options.drain_batch == 0) options.drain_batch = 1;
  io.emplace(1);
  scheduler = &boost::asio::use_service<boost::asio::detail::scheduler>(*io);
  timers.emplace(*io, [this](detail::Callback& fn) { run_guarded(fn, "timer callback"); });
}

void Loop::Impl::run_guarded(detail::Callback& fn, const char* what) noexcept {
  detail::BusyScope busy(self.shared_.get());
  detail::SlowScope timing(self.shared_.get(), what);
  try {
    fn();
  } catch (...) {
    report_current(std::string(what) + " raised an exception");
  }
}

void Loop::Impl::report_current(std::string message) noexcept {
  try {
    ExceptionContext context;
    context.message = std::move(message);
    context.exception = std::current_exception();
    self.shared_->report(std::move(context));
  } catch (...) {
  }
}

void Loop::Impl::post_drain() {
  boost::asio::post(*io, [this] { drain(); });
}

void Loop::Impl::drain() {
  detail::BusyScope busy(self.shared_.get());  // the whole batch, once
  // Each callback runs where it lies in the inbox and its cell is freed after it: moving the
  // batch out of the inbox first cost a copy of every callback.
  const std::size_t n = inbox.ready(options.drain_batch);
  if (n > 0) {
    const std::uint64_t end = inbox.head() + n;
    const bool check = remote_cancels->claim(end);
    detail::SlowLaps timing(self.shared_.get());
    // A drain nested in a callback (one that polls the loop's io_context) runs on from the next
    // item, so this one stops wherever its items ran out.
    while (inbox.head() < end) {
      std::uint64_t ticket = 0;
      detail::Callback& fn = inbox.take_front(ticket);
      if (!check || !remote_cancels->take(ticket)) {
        try {
          fn.consume();
        } catch (...) {
          report_current("callback raised an exception");
        }
        callbacks_run.add();
        timing.lap();
      }
      inbox.release(ticket);
      inbox.retire(ticket + 1);
    }
  }
  if (n == options.drain_batch) {
    post_drain();  // more may be queued: let timers and I/O run first; the wake flag stays set
    return;
  }
  wakeup.rearm();
  if (inbox.claimed_past_head() && wakeup.reclaim()) {
    post_drain();
    return;
  }
  check_quiescent();
}

void Loop::Impl::run_spinning() {
  using clock = std::chrono::steady_clock;
  const auto budget = options.spin_before_park;
  while (!io->stopped()) {
    if (io->poll() > 0) continue;  // ran something: look again at once
    // Idle. Watch the wake-up flag (a cached read until a producer posts a drain) and, every
    // 32 turns, poll for everything else (control posts from other loops, timers, I/O) and
    // read the clock; park in the kernel once the budget is spent.
    const auto until = clock::now() + budget;
    bool woken = false;
    for (unsigned i = 1; !woken && !io->stopped(); ++i) {
      if (wakeup.posted()) {
        woken = true;
      } else if (i % 32 == 0) {
        woken = io->poll() > 0;
        if (!woken && clock::now() >= until) break;
      } else {
        detail::cpu_relax();
      }
    }
    if (!woken) io->run_one();  // park until any handler, timer or I/O is ready
  }
}

void Loop::Impl::check_quiescent() {
  // sync: seq_cst; closing is set by another thread and followed by a posted re-check.
  if (!closing.load() || !tasks.empty() || !inbox.drained()) return;
  {
    detail::lock_guard guard(state_mu);
    quiescent = true;
  }
  state_cv.notify_all();
}

void Loop::Impl::on_task_started(detail::TaskBase* task) {
  tasks.emplace(task->id(), task);
  tasks_started.add();
  tasks_active.set(tasks.size());
}

void Loop::Impl::on_task_finished(detail::TaskBase* task, TaskStatus how) noexcept {
  tasks.erase(task->id());
  tasks_active.set(tasks.size());
  if (how == TaskStatus::cancelled) {
    tasks_cancelled.add();
  } else if (task->has_error()) {
    tasks_error.add();
  } else {
    tasks_ok.add();
  }
  check_quiescent();
}

void Loop::Impl::run_ready_work() {
  io->restart();
  for (int round = 0; round < max_ready_rounds; ++round) {
    try {
      if (io->poll() == 0) break;
    } catch (...) {
      report_current("handler raised an exception while the loop was finishing");
    }
  }
}

void Loop::Impl::drive(std::chrono::steady_clock::time_point deadline, bool (*done)(Impl&)) {
  auto* previous = detail::LoopShared::exchange_current(self.shared_.get());
  running.store(true);
  work.emplace(io->get_executor());
  io->restart();
  while (!done(*this) && std::chrono::steady_clock::now() < deadline) {
    try {
      io->run_one_until(deadline);
    } catch (...) {
      report_current("handler raised an exception");
    }
  }
  work.reset();
  running.store(false);
  detail::LoopShared::exchange_current(previous);
}

ShutdownReport Loop::Impl::snapshot_report() const {
  ShutdownReport r;
  r.tasks_completed = tasks_ok.get() + tasks_error.get() - ok_at_close - error_at_close;
  r.tasks_cancelled = tasks_cancelled.get() - cancelled_at_close;
  r.tasks_abandoned = abandoned;
  r.callbacks_run = callbacks_run.get() - callbacks_at_close;
  // sync: relaxed; the loop has stopped, producers only add rejections.
  r.submissions_rejected = rejected_closed.load(std::memory_order_relaxed);
  r.timers_cancelled = timers_dropped;
  r.elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - closed_at);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Loop

Loop::Loop(LoopOptions options)
    : shared_(std::make_shared<detail::LoopShared>(options.index, loop_name(options))),
      impl_(std::make_unique<Impl>(*this, options)) {
  shared_->attach(this, &*impl_->io);
  if (options.exception_handler) shared_->set_exception_handler(std::move(options.exception_handler));
  shared_->set_slow_threshold(options.slow_callback_threshold);
  if (impl_->options.spin_before_park.count() > 0 && process_cpu_count() < 2) {
    impl_->options.spin_before_park = std::chrono::microseconds(0);  // see LoopOptions::spin_before_park
  }
  shared_->set_spin_budget(impl_->options.spin_before_park);
}

std::chrono::microseconds Loop::spin_before_park() const noexcept { return impl_->options.spin_before_park; }

Loop::~Loop() {
  if (is_current()) {
    detail::log(LogLevel::critical,
                "{}: a Loop was destroyed from its own thread; this is a bug in the caller", name());
    std::terminate();
  }
  try {
    close();
  } catch (const std::exception& e) {
    detail::log(LogLevel::error, "{}: close() during destruction failed: {}", name(), e.what());
  }
  shared_->detach();
  impl_->remote_cancels->close();
  impl_->local_cancels->close();
  impl_->timers.reset();
  impl_->work.reset();
  impl_->io.reset();  // destroys pending frames: any task still pending is abandoned here
}

Loop& Loop::current() {
  Loop* loop = current_or_null();
  if (loop == nullptr) {
    throw WrongThreadError("Loop::current(): this thread is not running a loopvisor loop");
  }
  return *loop;
}

Loop* Loop::current_or_null() noexcept {
  auto* shared = detail::LoopShared::current();
  return shared == nullptr ? nullptr : shared->owner();
}

boost::asio::io_context& Loop::context() noexcept { return *impl_->io; }
Loop::executor_type Loop::get_executor() noexcept { return impl_->io->get_executor(); }

bool Loop::is_running() const noexcept { return impl_->running.load(); }

bool Loop::is_closed() const noexcept {
  detail::lock_guard guard(impl_->state_mu);
  return impl_->closed;
}

void Loop::require_on_loop(const char* api) const {
  if (!is_current()) {
    throw WrongThreadError(
        fmt::format("Loop::{} must be called on loop '{}' (its own thread); from "
                    "another thread use call_soon_threadsafe or "
                    "run_coroutine_threadsafe",
                    api, name()));
  }
}

void Loop::run_forever() {
  if (detail::LoopShared::current() != nullptr) {
    throw WrongThreadError(fmt::format("run_forever: this thread already runs loop '{}'",
                                       detail::LoopShared::current()->name()));
  }
  {
    detail::lock_guard guard(impl_->state_mu);
    if (impl_->closed) throw InvalidStateError(fmt::format("run_forever: loop '{}' is closed", name()));
    if (impl_->runner)
      throw InvalidStateError(fmt::format("run_forever: loop '{}' is already running", name()));
    impl_->runner = std::this_thread::get_id();
  }
  auto* previous = detail::LoopShared::exchange_current(shared_.get());
  impl_->running.store(true);
  impl_->work.emplace(impl_->io->get_executor());
  impl_->io->restart();
  if (impl_->stop_requested.exchange(false)) {
    impl_->io->poll();  // stop() before run_forever: one turn, as asyncio does
  } else {
    for (;;) {
      try {
        if (impl_->options.spin_before_park.count() > 0) {
          impl_->run_spinning();
        } else {
          impl_->io->run();
        }
        break;
      } catch (...) {
        // A raw Asio handler threw out of run(): report it and keep the loop alive.
        impl_->report_current("handler raised an exception");
      }
    }
  }
  impl_->stop_requested.store(false);
  impl_->work.reset();
  if (impl_->finishing) impl_->run_ready_work();
  impl_->running.store(false);
  detail::LoopShared::exchange_current(previous);
  {
    detail::lock_guard guard(impl_->state_mu);
    impl_->runner.reset();
  }
  impl_->state_cv.notify_all();
}

void Loop::stop() noexcept {
  impl_->stop_requested.store(true);
  impl_->io->stop();
}

Handle Loop::call_soon_erased(detail::Callback fn) {
  require_on_loop("call_soon");
  const std::uint64_t ticket = impl_->local_ticket++;
  boost::asio::post(*impl_->io, [impl = impl_.get(), ticket, fn = std::move(fn)]() mutable {
    if (impl->local_cancels->claim(ticket + 1) && impl->local_cancels->take(ticket)) return;
    impl->run_guarded(fn, "callback");
  });
  return Handle(impl_->local_cancels, ticket);
}

Handle Loop::call_at_erased(clock::time_point when, detail::Callback fn) {
  require_on_loop("call_at");
  auto entry = impl_->timers->add(when, std::move(fn));
  return Handle(std::move(entry), 0);
}

SubmitStatus Loop::push_threadsafe(detail::Callback& fn, std::uint64_t& ticket) {
  switch (impl_->inbox.try_push(fn, ticket)) {
    case detail::SubmitQueue::PushResult::ok:
      if (impl_->wakeup.needed()) impl_->post_drain();
      return SubmitStatus::accepted;
    case detail::SubmitQueue::PushResult::full:
      // sync: relaxed; a statistic.
      impl_->rejected_full.fetch_add(1, std::memory_order_relaxed);
      return SubmitStatus::full;
    case detail::SubmitQueue::PushResult::closed:
      break;
  }
  // sync: relaxed; a statistic.
  impl_->rejected_closed.fetch_add(1, std::memory_order_relaxed);
  return SubmitStatus::closed;
}

SubmitStatus Loop::try_call_soon_threadsafe_erased(detail::Callback& fn) {
  if (shared_->is_current()) {
    // From the loop's own thread: one FIFO with call_soon, as asyncio's single ready queue.
    if (impl_->inbox.closed()) {
      // sync: relaxed; a statistic.
      impl_->rejected_closed.fetch_add(1, std::memory_order_relaxed);
      return SubmitStatus::closed;
    }
    (void)call_soon_erased(std::move(fn));
    return SubmitStatus::accepted;
  }
  std::uint64_t ticket = 0;
  return push_threadsafe(fn, ticket);
}

Handle Loop::call_soon_threadsafe_erased(detail::Callback fn, const loopvisor::source_location& where) {
  if (shared_->is_current()) {
    // From the loop's own thread: one FIFO with call_soon, as asyncio's single ready queue.
    if (impl_->inbox.closed()) {
      // sync: relaxed; a statistic.
      impl_->rejected_closed.fetch_add(1, std::memory_order_relaxed);
      throw RuntimeClosed(
          fmt::format("loop '{}' is shutting down or closed; the callback from {} was not accepted", name(),
                      detail::origin_text(where)));
    }
    return call_soon_erased(std::move(fn));
  }
  std::uint64_t ticket = 0;
  switch (push_threadsafe(fn, ticket)) {
    case SubmitStatus::accepted:
      return Handle(impl_->remote_cancels, ticket);
    case SubmitStatus::full:
      throw SubmissionRejected(fmt::format(
          "loop '{}': submission queue is full (capacity {}); the callback from {} was not accepted. "
          "Retry later, submit to another loop, or raise submit_queue_capacity",
          name(), impl_->inbox.capacity(), detail::origin_text(where)));
    case SubmitStatus::closed:
      break;
  }
  throw RuntimeClosed(
      fmt::format("loop '{}' is shutting down or closed; the callback from {} was not accepted", name(),
                  detail::origin_text(where)));
}

void Loop::spawn(detail::TaskBase& task, detail::TaskEntry entry) {
  impl_->on_task_started(&task);
  if (impl_->cancelling) task.request_cancel_before_start();
  detail::launch_task(task, std::move(entry), *impl_->scheduler);
}

std::vector<TaskInfo> Loop::all_tasks() const {
  require_on_loop("all_tasks");
  std::vector<TaskInfo> out;
  out.reserve(impl_->tasks.size());
  for (const auto& [id, task] : impl_->tasks) out.push_back(task->info());
  std::sort(out.begin(), out.end(), [](const TaskInfo& a, const TaskInfo& b) { return a.id < b.id; });
  return out;
}

ThreadFuture<std::vector<TaskInfo>> Loop::snapshot_tasks() const {
  auto state = detail::make_future_state<std::vector<TaskInfo>>();
  const bool posted = shared_->post_control([state, self = this] {
    try {
      state->set_value(self->all_tasks());
    } catch (...) {
      state->set_exception(std::current_exception());
    }
  });
  if (!posted) {
    state->set_exception(std::make_exception_ptr(
        RuntimeClosed(fmt::format("loop '{}' is gone; it has no tasks to list", name()))));
  }
  return ThreadFuture<std::vector<TaskInfo>>(state);
}

void Loop::set_exception_handler(ExceptionHandler handler) {
  shared_->set_exception_handler(std::move(handler));
}

void Loop::call_exception_handler(ExceptionContext context) noexcept { shared_->report(std::move(context)); }

LoopStats Loop::stats() const noexcept {
  LoopStats s;
  s.index = index();
  s.name = name();
  s.running = is_running();
  s.closed = impl_->closing.load();
  s.queue_depth = impl_->inbox.depth();
  s.queue_capacity = impl_->inbox.capacity();
  s.callbacks_run = impl_->callbacks_run.get();
  // sync: relaxed snapshots; statistics.
  const auto full = impl_->rejected_full.load(std::memory_order_relaxed);
  const auto closed = impl_->rejected_closed.load(std::memory_order_relaxed);
  s.submissions_rejected = full + closed;
  s.submissions_accepted = s.callbacks_run + s.queue_depth;
  s.tasks_started = impl_->tasks_started.get();
  s.tasks_active = impl_->tasks_active.get();
  s.tasks_done_ok = impl_->tasks_ok.get();
  s.tasks_done_error = impl_->tasks_error.get();
  s.tasks_cancelled = impl_->tasks_cancelled.get();
  s.unhandled_exceptions = shared_->unhandled_exceptions();
  s.slow_callbacks = shared_->slow_callbacks();
  s.busy = shared_->busy();
  s.busy_ratio = health_->busy_ratio();
  s.lag = health_->last_lag();
  s.stalled = health_->stalled();
  s.stalls = health_->stalls();
  s.lag_probes = health_->lag().count();
  return s;
}

std::size_t Loop::submit_queue_capacity() const noexcept { return impl_->inbox.capacity(); }

BlockingPool& Loop::blocking_pool() {
  detail::lock_guard guard(impl_->state_mu);
  if (!impl_->blocking) {
    if (impl_->closed)
      throw RuntimeClosed(fmt::format("loop '{}' is closed; it has no blocking pool", name()));
    BlockingPoolOptions options;
    options.threads = impl_->options.blocking_threads;
    options.thread_name_prefix = name().substr(0, 6) + "-blk-";
    impl_->blocking = std::make_shared<BlockingPool>(options);
    impl_->owns_blocking = true;
  }
  return *impl_->blocking;
}

void Loop::set_blocking_pool(std::shared_ptr<BlockingPool> pool) {
  detail::lock_guard guard(impl_->state_mu);
  impl_->blocking = std::move(pool);
  impl_->owns_blocking = false;
}

std::size_t Loop::queue_depth() const noexcept { return impl_->inbox.depth(); }

std::size_t Loop::load() const noexcept { return impl_->inbox.depth() + impl_->tasks_active.get(); }

// ---------------------------------------------------------------------------------------------
// Shutdown phases

void Loop::close_submissions() noexcept {
  bool expected = false;
  if (!impl_->closing.compare_exchange_strong(expected, true)) return;
  impl_->closed_at = std::chrono::steady_clock::now();
  impl_->callbacks_at_close = impl_->callbacks_run.get();
  impl_->ok_at_close = impl_->tasks_ok.get();
  impl_->error_at_close = impl_->tasks_error.get();
  impl_->cancelled_at_close = impl_->tasks_cancelled.get();
  impl_->inbox.close();
  shared_->post_control([impl = impl_.get()] { impl->check_quiescent(); });
}

bool Loop::wait_quiescent(clock::time_point deadline) {
  {
    detail::unique_lock lock(impl_->state_mu);
    if (impl_->quiescent) return true;
    if (impl_->runner) {
      impl_->state_cv.wait_until(lock, deadline, [&] { return impl_->quiescent || !impl_->runner; });
      if (impl_->quiescent || impl_->runner) return impl_->quiescent;
    }
  }
  impl_->drive(deadline, [](Impl& impl) {
    detail::lock_guard guard(impl.state_mu);
    return impl.quiescent;
  });
  detail::lock_guard guard(impl_->state_mu);
  return impl_->quiescent;
}

void Loop::cancel_all_tasks() noexcept {
  shared_->post_control([impl = impl_.get()] {
    impl->cancelling = true;
    std::vector<std::shared_ptr<detail::TaskBase>> live;
    live.reserve(impl->tasks.size());
    for (auto& [id, task] : impl->tasks) live.push_back(task->shared_from_this());
    for (auto& task : live) task->cancel();
    impl->check_quiescent();
  });
}

void Loop::finish() {
  auto stop_here = [impl = impl_.get()] {
    impl->finishing = true;
    impl->timers_dropped += impl->timers->cancel_all();
    impl->io->stop();
  };
  bool remote = false;
  {
    detail::lock_guard guard(impl_->state_mu);
    remote = impl_->runner.has_value();
  }
  if (remote) {
    shared_->post_control(stop_here);
    detail::unique_lock lock(impl_->state_mu);
    while (!impl_->state_cv.wait_for(lock, std::chrono::seconds(10), [&] { return !impl_->runner; })) {
      detail::log(LogLevel::warn,
                  "{}: still waiting for the loop thread to return (a callback is blocking it)", name());
    }
  } else {
    auto* previous = detail::LoopShared::exchange_current(shared_.get());
    impl_->finishing = true;
    impl_->timers_dropped += impl_->timers->cancel_all();
    impl_->run_ready_work();
    detail::LoopShared::exchange_current(previous);
  }
  impl_->abandoned = impl_->tasks.size();
  if (impl_->abandoned > 0) {
    detail::log(LogLevel::warn, "{}: {} task(s) ignored cancellation and will be destroyed while pending",
                name(), impl_->abandoned);
  }
  std::shared_ptr<BlockingPool> own_pool;
  {
    detail::lock_guard guard(impl_->state_mu);
    impl_->closed = true;
    impl_->final_report = impl_->snapshot_report();
    if (impl_->owns_blocking) own_pool = impl_->blocking;
  }
  if (own_pool) own_pool->shutdown();  // runs the jobs it accepted, joins its threads
}

bool Loop::finishing() const noexcept { return impl_->finishing; }

ShutdownReport Loop::report() const {
  detail::lock_guard guard(impl_->state_mu);
  return impl_->final_report;
}

std::uint64_t Loop::rejected_closed() const noexcept {
  // sync: relaxed; a statistic that producers refused after close may still be raising.
  return impl_->rejected_closed.load(std::memory_order_relaxed);
}

ShutdownReport Loop::close(std::chrono::milliseconds grace, std::chrono::milliseconds cancel_timeout) {
  if (is_current()) {
    throw WrongThreadError(
        fmt::format("Loop::close() called on loop '{}' itself; it would wait for "
                    "itself. Call stop() here and close() from another thread",
                    name()));
  }
  detail::lock_guard closing(impl_->close_mu);
  if (is_closed()) return report();
  close_submissions();
  if (!wait_quiescent(clock::now() + grace)) {
    cancel_all_tasks();
    wait_quiescent(clock::now() + cancel_timeout);
  }
  finish();
  return report();
}

// ---------------------------------------------------------------------------------------------
// current_task

AnyTask current_task() {
  if (Loop::current_or_null() == nullptr) {
    throw WrongThreadError("current_task() called off any loop: there is no running loop on this thread");
  }
  return AnyTask(detail::current_task_state());
}

namespace detail {
std::shared_ptr<TaskBase> current_task_state() {
  const std::uint64_t id = current_task_id();
  Loop* loop = Loop::current_or_null();
  if (id == 0 || loop == nullptr) return nullptr;
  auto& tasks = loop->impl_->tasks;
  auto it = tasks.find(id);
  if (it == tasks.end()) return nullptr;
  return it->second->shared_from_this();
}
}  // namespace detail

}  // namespace loopvisor
