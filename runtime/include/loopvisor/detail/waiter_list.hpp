// WaiterList: a loop-local FIFO of suspended operations, woken one or all, cancellation-safe.
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/post.hpp>
#include <exception>
#include <list>
#include <memory>

#include "loopvisor/detail/task_state.hpp"
#include "loopvisor/errors.hpp"

namespace loopvisor::detail {

/// The building block of Event, Lock, Semaphore, Condition and Queue.
///
/// Each waiter is an Asio operation with signature void(std::exception_ptr). `notify_one`
/// completes the oldest waiter with success (null), `notify_all` every waiter. A waiter whose
/// cancellation slot fires is unlinked and completed with CancelledError at once, so it can
/// never later consume a wake-up: whoever notifies only ever reaches live waiters. Completions
/// are posted to each waiter's executor, never run inline.
///
/// Thread safety: loop thread only (the owner's loop).
class WaiterList {
 public:
  WaiterList() = default;
  WaiterList(const WaiterList&) = delete;
  WaiterList& operator=(const WaiterList&) = delete;
  ~WaiterList() {
    fail_all(std::make_exception_ptr(CancelledError("the object being waited on was destroyed")));
  }

  template <class Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        [this](auto handler) { enqueue(std::move(handler)); }, token);
  }

  /// Wakes the oldest waiter; false if there was none.
  bool notify_one() {
    if (waiters_.empty()) return false;
    auto entry = std::move(waiters_.front());
    waiters_.pop_front();
    entry->complete(nullptr);
    return true;
  }

  std::size_t notify_all() {
    std::size_t n = 0;
    while (notify_one()) ++n;
    return n;
  }

  /// Completes every waiter with `error`.
  void fail_all(std::exception_ptr error) {
    while (!waiters_.empty()) {
      auto entry = std::move(waiters_.front());
      waiters_.pop_front();
      entry->complete(error);
    }
  }

  bool empty() const noexcept { return waiters_.empty(); }
  std::size_t size() const noexcept { return waiters_.size(); }

 private:
  struct Entry {
    virtual ~Entry() = default;
    /// Posts the completion. `clear_slot` is false when called from the slot's own handler,
    /// which must not destroy itself; the resumed coroutine clears its slot then.
    virtual void complete(std::exception_ptr error, bool clear_slot = true) = 0;
  };
  using List = std::list<std::unique_ptr<Entry>>;

  template <class Handler>
  struct Waiter final : Entry {
    explicit Waiter(Handler h)
        : handler(std::move(h)), slot(boost::asio::get_associated_cancellation_slot(handler)) {}
    void complete(std::exception_ptr error, bool clear_slot) override {
      if (clear_slot && slot.is_connected()) slot.clear();
      auto executor = boost::asio::get_associated_executor(handler);
      boost::asio::post(executor, [h = std::move(handler), error]() mutable { std::move(h)(error); });
    }
    Handler handler;
    boost::asio::cancellation_slot slot;
  };

  /// Lives in the waiter's cancellation slot until the slot is cleared.
  struct CancelWaiter {
    WaiterList* list;
    List::iterator it;
    bool linked = true;
    void operator()(boost::asio::cancellation_type) {
      if (!linked) return;  // a second emission after the first unlinked us
      linked = false;
      auto entry = std::move(*it);
      list->waiters_.erase(it);  // unlinked first: from here on no notify can reach it
      entry->complete(current_cancelled_error("the wait"), false);
    }
  };

  template <class Handler>
  void enqueue(Handler handler) {
    auto waiter = std::make_unique<Waiter<Handler>>(std::move(handler));
    auto slot = waiter->slot;
    waiters_.push_back(std::move(waiter));
    if (slot.is_connected())
      slot.template emplace<CancelWaiter>(CancelWaiter{this, std::prev(waiters_.end())});
  }

  List waiters_;
};

}  // namespace loopvisor::detail
