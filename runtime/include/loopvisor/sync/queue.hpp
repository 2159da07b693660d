// Queue<T>, LifoQueue<T>, PriorityQueue<T>: loop-local queues between coroutines (asyncio.Queue and
// its variants, with 3.13's shutdown).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "loopvisor/detail/queue_store.hpp"
#include "loopvisor/detail/waiter_list.hpp"
#include "loopvisor/errors.hpp"
#include "loopvisor/sync/event.hpp"

namespace loopvisor {

/// Items with an optional bound (`maxsize` 0 means unbounded), handed out in the order its
/// `Store` keeps: use `Queue`, `LifoQueue` or `PriorityQueue` below.
///
/// - `put` waits while the queue is full; `get` waits while it is empty. Waiters are served
///   oldest first. `put_nowait`/`get_nowait` raise QueueFull/QueueEmpty instead of waiting.
/// - `task_done`/`join`: `join` waits until every item put has been marked done.
/// - `shutdown()`: later puts raise QueueShutDown; gets drain what is left, then raise
///   QueueShutDown. `shutdown(true)` also drops what is left (counting it as done). Every
///   blocked putter and getter wakes and raises.
/// - Cancellation-safe: a getter cancelled while waiting is removed and takes no item; a
///   wake-up goes to a live waiter, and a woken getter that finds the item gone waits again,
///   so no item is lost and no waiter is left asleep while items are queued.
///
/// Thread safety: on the owning loop only (across threads use Channel).
template <class T, class Store>
class BasicQueue {
 public:
  /// `maxsize` <= 0: unbounded, as in asyncio.
  explicit BasicQueue(std::int64_t maxsize = 0)
      : maxsize_(maxsize > 0 ? static_cast<std::size_t>(maxsize) : 0) {
    all_done_.set();
  }

  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  bool full() const noexcept { return maxsize_ != 0 && items_.size() >= maxsize_; }
  std::size_t maxsize() const noexcept { return maxsize_; }
  bool is_shut_down() const noexcept { return shut_down_; }

  [[nodiscard]] boost::asio::awaitable<void> put(T item) {
    while (full() && !shut_down_) co_await putters_.async_wait(boost::asio::use_awaitable);
    put_nowait(std::move(item));
  }

  void put_nowait(T item) {
    if (shut_down_) throw QueueShutDown("Queue::put on a queue that was shut down");
    if (full())
      throw QueueFull("Queue::put_nowait on a full queue (maxsize " + std::to_string(maxsize_) + ")");
    items_.push(std::move(item));
    ++unfinished_;
    all_done_.clear();
    getters_.notify_one();
  }

  [[nodiscard]] boost::asio::awaitable<T> get() {
    while (items_.empty() && !shut_down_) co_await getters_.async_wait(boost::asio::use_awaitable);
    co_return get_nowait();
  }

  T get_nowait() {
    if (items_.empty()) {
      if (shut_down_) throw QueueShutDown("Queue::get on a queue that was shut down and is empty");
      throw QueueEmpty("Queue::get_nowait on an empty queue");
    }
    T item = items_.pop();
    putters_.notify_one();
    if (!items_.empty()) getters_.notify_one();  // pass on a wake-up the taker may have skipped
    return item;
  }

  /// Marks one item as processed; InvalidStateError if called more often than items were put.
  void task_done() {
    if (unfinished_ == 0) throw InvalidStateError("Queue::task_done() called more times than items were put");
    if (--unfinished_ == 0) all_done_.set();
  }

  /// Waits until every item put so far has been marked done.
  [[nodiscard]] boost::asio::awaitable<void> join() { co_await all_done_.wait(); }

  void shutdown(bool immediate = false) {
    shut_down_ = true;
    if (immediate) {
      unfinished_ -= std::min(unfinished_, items_.size());
      items_.clear();
      if (unfinished_ == 0) all_done_.set();
    }
    getters_.notify_all();
    putters_.notify_all();
  }

 private:
  std::size_t maxsize_;
  Store items_;
  std::size_t unfinished_ = 0;
  bool shut_down_ = false;
  Event all_done_;
  detail::WaiterList getters_;
  detail::WaiterList putters_;
};

/// asyncio.Queue: first in, first out.
template <class T>
using Queue = BasicQueue<T, detail::FifoStore<T>>;
/// asyncio.LifoQueue: the most recently put item comes out first.
template <class T>
using LifoQueue = BasicQueue<T, detail::LifoStore<T>>;
/// asyncio.PriorityQueue: the lowest item by `Less` comes out first (a heap, as heapq).
template <class T, class Less = std::less<T>>
using PriorityQueue = BasicQueue<T, detail::PriorityStore<T, Less>>;

}  // namespace loopvisor
