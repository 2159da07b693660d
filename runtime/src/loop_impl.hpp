// Loop::Impl: the loop's private state — io_context, inbox, wake-up, timers, task registry.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <optional>
#include <thread>

#include "cancel_registry.hpp"
#include "loopvisor/blocking_pool.hpp"
#include "loopvisor/detail/sync.hpp"
#include "loopvisor/loop.hpp"
#include "submit_queue.hpp"
#include "timer_queue.hpp"
#include "wakeup.hpp"

namespace loopvisor {

struct Loop::Impl {
  Impl(Loop& self, const LoopOptions& options);

  // --- on the loop thread ---
  void drain();  // runs a batch of cross-thread callbacks
  void run_guarded(detail::Callback& fn, const char* what) noexcept;
  void report_current(std::string message) noexcept;  // inside a catch block
  void check_quiescent();                             // closing, no tasks, inbox drained → wake close()
  void on_task_started(detail::TaskBase* task);
  void on_task_finished(detail::TaskBase* task, TaskStatus how) noexcept;
  void post_drain();
  void drive(std::chrono::steady_clock::time_point deadline, bool (*done)(Impl&));
  void run_ready_work();  // bounded poll of handlers already queued
  void run_spinning();    // io->run() with spin-before-park (options.spin_before_park)
  ShutdownReport snapshot_report() const;

  Loop& self;
  LoopOptions options;

  detail::SubmitQueue inbox;
  detail::Wakeup wakeup;
  std::shared_ptr<detail::CancelRegistry> remote_cancels = std::make_shared<detail::CancelRegistry>();
  std::shared_ptr<detail::CancelRegistry> local_cancels = std::make_shared<detail::CancelRegistry>();
  std::uint64_t local_ticket = 0;

  // Live tasks by id. Open addressing: no allocation per task (a node-based map cost one
  // malloc and free per task, about 5 % of spawning one).
  boost::unordered_flat_map<std::uint64_t, detail::TaskBase*> tasks;

  // Counters: one writer (this loop) unless noted, read anywhere.
  detail::OwnedCounter callbacks_run;
  detail::OwnedCounter tasks_started;
  detail::OwnedCounter tasks_active;
  detail::OwnedCounter tasks_ok;
  detail::OwnedCounter tasks_error;
  detail::OwnedCounter tasks_cancelled;
  detail::atomic<std::uint64_t> rejected_full{0};    // producers write
  detail::atomic<std::uint64_t> rejected_closed{0};  // producers write

  // Lifecycle.
  detail::atomic<bool> running{false};
  detail::atomic<bool> closing{false};  // submissions refused
  bool cancelling = false;              // loop thread: new tasks start cancelled
  bool finishing = false;               // loop thread: run_forever drains ready work and returns
  bool closed = false;                  // guarded by state_mu
  detail::mutex state_mu;               // guards quiescent, closed, report, runner
  detail::condition_variable state_cv;
  bool quiescent = false;
  std::optional<std::thread::id> runner;  // thread inside run_forever
  ShutdownReport final_report;
  std::shared_ptr<BlockingPool> blocking;  // guarded by state_mu
  bool owns_blocking = false;              // created here: shut down by close()
  std::size_t abandoned = 0;
  std::size_t timers_dropped = 0;
  std::uint64_t callbacks_at_close = 0;
  std::uint64_t ok_at_close = 0, error_at_close = 0, cancelled_at_close = 0;
  std::chrono::steady_clock::time_point closed_at;
  detail::mutex close_mu;  // one close() at a time
  detail::atomic<bool> stop_requested{false};

  // Declared last, destroyed first (by ~Loop, explicitly): tearing down the io_context
  // destroys pending coroutine frames, whose abandonment still needs everything above.
  std::optional<boost::asio::io_context> io;
  boost::asio::detail::scheduler* scheduler =
      nullptr;  // io's own; where tasks are launched (task_driver.cpp)
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::optional<WorkGuard> work;
  std::optional<detail::TimerQueue> timers;
};

}  // namespace loopvisor
