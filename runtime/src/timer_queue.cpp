// The loop's timers: a heap of entries behind one Asio steady_timer.
#include "timer_queue.hpp"

#include <algorithm>

namespace loopvisor::detail {

namespace {
// std heap functions build a max-heap; "greater" puts the earliest deadline on top.
bool later(const std::shared_ptr<TimerEntry>& a, const std::shared_ptr<TimerEntry>& b) {
  if (a->deadline() != b->deadline()) return a->deadline() > b->deadline();
  return a->sequence() > b->sequence();
}
}  // namespace

bool TimerEntry::cancel(std::uint64_t) noexcept {
  int expected = pending;
  return state_.compare_exchange_strong(expected, cancelled, std::memory_order_acq_rel);
}

bool TimerEntry::fire() noexcept {
  int expected = pending;
  return state_.compare_exchange_strong(expected, fired, std::memory_order_acq_rel);
}

bool TimerEntry::is_cancelled() const noexcept { return state_.load(std::memory_order_acquire) == cancelled; }

TimerQueue::TimerQueue(boost::asio::io_context& io, Runner run) : timer_(io), run_(std::move(run)) {}

std::shared_ptr<TimerEntry> TimerQueue::add(time_point deadline, Callback fn) {
  auto entry = std::make_shared<TimerEntry>(deadline, next_sequence_++, std::move(fn));
  heap_.push_back(entry);
  std::push_heap(heap_.begin(), heap_.end(), later);
  if (heap_.size() > 64 && heap_.size() % 64 == 0) compact();
  arm();
  return entry;
}

void TimerQueue::compact() {
  const auto live =
      std::count_if(heap_.begin(), heap_.end(), [](const auto& e) { return !e->is_cancelled(); });
  if (static_cast<std::size_t>(live) * 2 >= heap_.size()) return;
  std::erase_if(heap_, [](const auto& e) { return e->is_cancelled(); });
  std::make_heap(heap_.begin(), heap_.end(), later);
}

void TimerQueue::arm() {
  while (!heap_.empty() && heap_.front()->is_cancelled()) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
  if (heap_.empty()) return;
  const time_point next = heap_.front()->deadline();
  if (next == armed_for_) return;
  armed_for_ = next;
  timer_.expires_at(next);  // cancels a wait armed for a later deadline
  timer_.async_wait([this, next](const boost::system::error_code& ec) {
    if (ec || next != armed_for_) return;  // superseded by an earlier deadline, or shut down
    on_expiry();
  });
}

void TimerQueue::on_expiry() {
  armed_for_ = time_point::max();
  const time_point now = std::chrono::steady_clock::now();
  // Take every due entry first, then run them: a callback that adds a timer due "now" runs on
  // the next turn, as in asyncio, instead of starving the loop.
  std::vector<std::shared_ptr<TimerEntry>> due;
  while (!heap_.empty() && heap_.front()->deadline() <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    due.push_back(std::move(heap_.back()));
    heap_.pop_back();
  }
  for (auto& entry : due) {
    if (entry->fire()) {
      run_(entry->fn());
      entry->fn().reset();
    }
  }
  arm();
}

std::size_t TimerQueue::cancel_all() {
  std::size_t n = 0;
  for (auto& entry : heap_) {
    if (entry->cancel(0)) ++n;
    entry->fn().reset();
  }
  heap_.clear();
  armed_for_ = time_point::max();
  timer_.cancel();
  return n;
}

}  // namespace loopvisor::detail
