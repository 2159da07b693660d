// Queue stores: the order in which a Queue hands out its items (FIFO, LIFO, lowest first).
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

namespace loopvisor::detail {

/// First in, first out (asyncio.Queue), or last in, first out (asyncio.LifoQueue).
template <class T, bool LastInFirstOut>
class SequenceStore {
 public:
  void push(T item) { items_.push_back(std::move(item)); }
  T pop() {
    if constexpr (LastInFirstOut) {
      T item = std::move(items_.back());
      items_.pop_back();
      return item;
    } else {
      T item = std::move(items_.front());
      items_.pop_front();
      return item;
    }
  }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  void clear() noexcept { items_.clear(); }

 private:
  std::deque<T> items_;
};

template <class T>
using FifoStore = SequenceStore<T, false>;
template <class T>
using LifoStore = SequenceStore<T, true>;

/// Lowest first by `Less` (asyncio.PriorityQueue, a binary heap as heapq). Equal items come out
/// in no particular order, as with heapq; put (priority, sequence, item) tuples for FIFO ties.
template <class T, class Less = std::less<T>>
class PriorityStore {
 public:
  void push(T item) {
    items_.push_back(std::move(item));
    std::push_heap(items_.begin(), items_.end(), greater());
  }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), greater());
    T item = std::move(items_.back());
    items_.pop_back();
    return item;
  }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  void clear() noexcept { items_.clear(); }

 private:
  // std's heap algorithms keep the greatest on top; invert to keep the lowest there.
  auto greater() const {
    return [less = less_](const T& a, const T& b) { return less(b, a); };
  }
  std::vector<T> items_;
  Less less_;
};

}  // namespace loopvisor::detail
