// Watchdog: periodic probes posted to every loop, lag measurement and stall flagging.
#include "loopvisor/watchdog.hpp"

#include <algorithm>
#include <thread>

#include "log.hpp"

#include "loop_thread.hpp"
#include "loopvisor/detail/loop_health.hpp"
#include "loopvisor/loop.hpp"

namespace loopvisor {

struct Watchdog::Impl {
  struct Probe {
    Loop* loop;
    std::shared_ptr<detail::LoopHealth> health;
    std::chrono::steady_clock::time_point sent{};
    bool outstanding = false;
    bool reported = false;  // this stall was logged
    std::chrono::nanoseconds busy_seen{0};
    std::chrono::steady_clock::time_point busy_at{};
  };

  WatchdogOptions options;  // stall_threshold is read from stall_threshold_ms instead
  // sync: relaxed; a setting changed live (set_stall_threshold), read on its own.
  detail::atomic<std::int64_t> stall_threshold_ms{0};
  std::vector<Probe> probes;
  detail::mutex mu;
  detail::condition_variable cv;
  bool stopping = false;  // guarded by mu
  // steady_clock nanoseconds at the end of the last round; 0 when not running.
  // sync: relaxed; a timestamp read on its own, nothing is published through it.
  detail::atomic<std::int64_t> last_round{0};
  std::thread thread;

  static std::int64_t now_ns() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

  void run() {
    detail::name_this_thread("lv-watchdog");
    detail::unique_lock lock(mu);
    while (!stopping) {
      lock.unlock();
      tick();
      if (options.on_round) options.on_round();
      last_round.store(now_ns(), std::memory_order_relaxed);
      lock.lock();
      cv.wait_for(lock, options.interval, [&] { return stopping; });
    }
  }

  // Counts the step still running too, so a loop stuck in one callback reads fully busy.
  static void update_busy_ratio(Probe& p, std::chrono::steady_clock::time_point now) {
    const auto busy = detail::loop_shared(*p.loop)->busy_including_current(now);
    if (p.busy_at != std::chrono::steady_clock::time_point{} && now > p.busy_at) {
      const double ratio = std::chrono::duration<double>(busy - p.busy_seen).count() /
                           std::chrono::duration<double>(now - p.busy_at).count();
      p.health->set_busy_ratio(std::clamp(ratio, 0.0, 1.0));
    }
    p.busy_seen = busy;
    p.busy_at = now;
  }

  void tick() {
    const auto now = std::chrono::steady_clock::now();
    for (auto& p : probes) {
      update_busy_ratio(p, now);
      if (p.outstanding) {
        // sync: acquire pairs with the loop's release in answer(): it ran the probe.
        if (p.health->answered.load(std::memory_order_acquire) >=
            p.health->sent_seq.load(std::memory_order_relaxed)) {
          p.outstanding = false;
          if (p.reported) {
            detail::log(LogLevel::warn, "{}: recovered after a stall of about {} ms", p.loop->name(),
                        std::chrono::duration_cast<std::chrono::milliseconds>(now - p.sent).count());
            p.reported = false;
          }
          p.health->set_stalled(false);
        } else {
          const auto waited = now - p.sent;
          const std::chrono::milliseconds threshold(stall_threshold_ms.load(std::memory_order_relaxed));
          if (waited > threshold) {
            p.health->set_stalled(true);
            p.health->record_pending_lag(waited);
            if (!p.reported) {
              p.reported = true;
              detail::log(LogLevel::error,
                          "{}: stalled: it has not run a probe for {} ms (threshold {} ms); a callback is "
                          "blocking it",
                          p.loop->name(),
                          std::chrono::duration_cast<std::chrono::milliseconds>(waited).count(),
                          threshold.count());
            }
          }
          continue;  // one probe at a time per loop
        }
      }
      if (p.loop->is_closed()) continue;
      p.sent = now;
      p.outstanding = true;
      // sync: relaxed; sent_seq is written and read by this thread only.
      const std::uint64_t seq = p.health->sent_seq.load(std::memory_order_relaxed) + 1;
      p.health->sent_seq.store(seq, std::memory_order_relaxed);
      const bool posted = detail::loop_shared(*p.loop)->post_control([health = p.health, sent = now, seq] {
        health->answer(seq, std::chrono::steady_clock::now() - sent);
      });
      if (!posted) p.outstanding = false;
    }
  }
};

Watchdog::Watchdog(std::vector<Loop*> loops, WatchdogOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->stall_threshold_ms.store(options.stall_threshold.count(), std::memory_order_relaxed);
  if (options.interval.count() <= 0) return;
  for (Loop* loop : loops) impl_->probes.push_back({loop, detail::loop_health(*loop)});
  impl_->last_round.store(Impl::now_ns(), std::memory_order_relaxed);
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

Watchdog::~Watchdog() { stop(); }

void Watchdog::stop() {
  {
    detail::lock_guard g(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->last_round.store(0, std::memory_order_relaxed);
}

void Watchdog::set_stall_threshold(std::chrono::milliseconds threshold) noexcept {
  impl_->stall_threshold_ms.store(threshold.count(), std::memory_order_relaxed);
}

std::chrono::milliseconds Watchdog::stall_threshold() const noexcept {
  return std::chrono::milliseconds(impl_->stall_threshold_ms.load(std::memory_order_relaxed));
}

std::optional<std::chrono::steady_clock::duration> Watchdog::silence() const noexcept {
  const auto last = impl_->last_round.load(std::memory_order_relaxed);
  if (last == 0) return std::nullopt;
  return std::chrono::steady_clock::duration(Impl::now_ns() - last);
}

}  // namespace loopvisor
