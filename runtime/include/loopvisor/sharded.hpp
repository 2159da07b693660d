// Sharded<S>: one instance of a service per loop, reached without locks from its own loop.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <memory>
#include <type_traits>
#include <vector>

#include "loopvisor/errors.hpp"
#include "loopvisor/supervisor.hpp"
#include "loopvisor/thread_future.hpp"

namespace loopvisor {

/// Holds one S per loop of a supervisor (Seastar's sharded<>): instance i is constructed,
/// started, used and destroyed on loop i only, so it needs no locks — the home of per-loop
/// caches and connection pools.
///
/// Lifecycle: the constructor builds S(args...) on each loop in index order and calls
/// `start()` if S has one (void, or an awaitable that is awaited); it returns when all are
/// started, or throws the first failure after stopping those that started. `stop()` (also
/// called by the destructor and by Supervisor::shutdown, in reverse order of construction)
/// calls S::stop() if present and destroys each instance on its loop, last loop first.
///
/// Thread safety: construct, `stop()` and destroy from a thread that runs no loop of the
/// supervisor (they block). `invoke_on`/`invoke_on_all` from any thread. `local()` only on a
/// loop of the supervisor, and the reference only there.
template <class S>
class Sharded final : private detail::ShardedBase {
 public:
  template <class... Args>
  explicit Sharded(Supervisor& supervisor, const Args&... args) : supervisor_(supervisor) {
    if (supervisor.owns_current_thread()) {
      throw WrongThreadError("Sharded<S> must be constructed off the supervisor's loops (it blocks)");
    }
    if (supervisor.is_closed()) throw RuntimeClosed("Sharded<S>: the supervisor is shut down");
    shards_.resize(supervisor.size());
    try {
      for (std::size_t i = 0; i < supervisor.size(); ++i) {
        on_loop(i, [this, i, &args...] { shards_[i] = std::make_unique<S>(args...); }).get();
        start_shard(i);
      }
    } catch (...) {
      stop_shards();
      throw;
    }
    supervisor.add_service(this);
  }

  ~Sharded() override {
    supervisor_.remove_service(this);
    stop_shards();
  }

  Sharded(const Sharded&) = delete;
  Sharded& operator=(const Sharded&) = delete;

  std::size_t size() const noexcept { return shards_.size(); }

  /// On a loop of the supervisor: that loop's instance.
  S& local() const {
    Loop* loop = Loop::current_or_null();
    if (loop == nullptr || &supervisor_.loop(loop->index()) != loop || !shards_[loop->index()]) {
      throw WrongThreadError("Sharded::local() must be called on a running loop of its supervisor");
    }
    return *shards_[loop->index()];
  }

  /// Runs `fn(S&)` on loop `index`; its result (or the result of the awaitable it returns) in
  /// a future. Submission errors (queue full, closed) are thrown here.
  template <class F>
  [[nodiscard]] auto invoke_on(std::size_t index, F&& fn) {
    Loop& loop = supervisor_.loop(index);
    return loop.submit(
        [this, index, f = std::decay_t<F>(std::forward<F>(fn))]() mutable { return f(*shards_[index]); });
  }

  /// Runs `fn(S&)` on every loop; the future is done when all are, with the first error.
  template <class F>
  [[nodiscard]] ThreadFuture<void> invoke_on_all(F fn) {
    auto all = detail::make_future_state<void>();
    auto remaining = std::make_shared<detail::atomic<std::size_t>>(shards_.size());
    auto first_error = std::make_shared<detail::atomic<bool>>(false);
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      auto one = invoke_on(i, fn);
      one.add_done_callback([all, remaining, first_error](auto f) {
        auto e = f.exception();
        if (e && !first_error->exchange(true)) all->set_exception(e);
        if (remaining->fetch_sub(1) == 1) all->set_value();
      });
    }
    return ThreadFuture<void>(std::move(all));
  }

  /// Stops and destroys every instance, last loop first. Idempotent.
  void stop() { stop_shards(); }

 private:
  template <class F>
  ThreadFuture<void> on_loop(std::size_t index, F fn) {
    // Outside the bounded inbox: service lifecycle must work while the runtime drains.
    auto state = detail::make_future_state<void>();
    state->set_producer(detail::loop_shared(supervisor_.loop(index)));
    bool posted =
        detail::loop_shared(supervisor_.loop(index))->post_control([state, fn = std::move(fn)]() mutable {
          try {
            fn();
            state->set_value();
          } catch (...) {
            state->set_exception(std::current_exception());
          }
        });
    if (!posted) state->set_exception(std::make_exception_ptr(RuntimeClosed("the loop is gone")));
    return ThreadFuture<void>(std::move(state));
  }

  void start_shard(std::size_t i) {
    if constexpr (requires(S & s) { s.start(); }) {
      using R = decltype(std::declval<S&>().start());
      if constexpr (std::is_void_v<R>) {
        on_loop(i, [this, i] { shards_[i]->start(); }).get();
      } else {
        auto state = detail::make_future_state<void>();
        on_loop(i, [this, i, state] {
          boost::asio::co_spawn(supervisor_.loop(i).get_executor(), shards_[i]->start(),
                                [state](std::exception_ptr e) {
                                  if (e) {
                                    state->set_exception(e);
                                  } else {
                                    state->set_value();
                                  }
                                });
        }).get();
        ThreadFuture<void>(state).get();
      }
    }
  }

  void stop_shards() noexcept override {
    for (std::size_t k = shards_.size(); k-- > 0;) {
      if (!shards_[k]) continue;  // never built, or already stopped (ordered by the last get())
      auto stopped = on_loop(k, [this, k] {
        if (!shards_[k]) return;
        if constexpr (requires(S & s) { s.stop(); }) {
          try {
            shards_[k]->stop();
          } catch (...) {
            shards_[k].reset();
            throw;
          }
        }
        shards_[k].reset();
      });
      try {
        if (!stopped.wait_for(std::chrono::seconds(30))) {
          detail::report_callback_failure("Sharded::stop", "loop did not answer within 30 s");
          continue;
        }
        stopped.get();
      } catch (const std::exception& e) {
        detail::report_callback_failure("Sharded::stop", e.what());
      }
    }
  }

  Supervisor& supervisor_;
  std::vector<std::unique_ptr<S>> shards_;
};

}  // namespace loopvisor
