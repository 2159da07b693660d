// Makes `co_await task`, `co_await future` compile: two Boost 1.81 defects in how an
// awaitable<T> co_awaits an Asio operation object directly, worked around for Boost 1.81 only
// (the version the package pins).
//
// 1. awaitable_async_op_handler<R(std::exception_ptr, T)>::resume tests the result struct itself
//    (`if (*result)`) instead of its exception pointer, so no direct co_await of an operation
//    with signature void(std::exception_ptr, T) compiles. The partial specialisation below,
//    for awaitables on any_io_executor (the default), is more specialised than Boost's and
//    reads the exception pointer. Boost's version never compiles, so no program holds both.
// 2. awaitable_async_op keeps the operation as `Op&&` with Op decayed, so an lvalue operation
//    (`co_await task` on a named task) cannot bind. For operations that opt in by declaring
//    `using awaited_by_copy = void;` (cheap handles: Task, Future, ThreadFuture), the
//    specialisation below keeps a copy instead; the copy lives in the awaiting frame until
//    the await ends.
//
// It also says which completion handlers are a coroutine co_awaiting an operation object
// directly (`awaits_operation_in_its_frame`): such an operation object lives in the awaiting
// frame until the await ends, so it can hold what the wait needs. On another Boost version no
// handler is taken for one (operations then keep their state on the heap).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/version.hpp>
#include <exception>
#include <utility>

namespace loopvisor::detail {

template <class Handler>
inline constexpr bool awaits_operation_in_its_frame = false;

}  // namespace loopvisor::detail

#if BOOST_VERSION == 108100

namespace loopvisor::detail {

template <class Signature>
inline constexpr bool awaits_operation_in_its_frame<
    boost::asio::detail::awaitable_async_op_handler<Signature, boost::asio::any_io_executor>> = true;

}  // namespace loopvisor::detail

namespace boost::asio::detail {

template <typename R, typename T>
class awaitable_async_op_handler<R(std::exception_ptr, T), any_io_executor>
    : public awaitable_thread<any_io_executor> {
 public:
  struct result_type {
    std::exception_ptr* ex_;
    T* value_;
  };

  awaitable_async_op_handler(awaitable_thread<any_io_executor>* h, result_type& result)
      : awaitable_thread<any_io_executor>(std::move(*h)), result_(result) {}

  void operator()(std::exception_ptr ex, T value) {
    result_.ex_ = &ex;
    result_.value_ = &value;
    this->entry_point()->top_of_stack_->attach_thread(this);
    this->entry_point()->top_of_stack_->clear_cancellation_slot();
    this->pump();
  }

  static T resume(result_type& result) {
    if (*result.ex_) std::rethrow_exception(std::exchange(*result.ex_, nullptr));
    return std::move(*result.value_);
  }

 private:
  result_type& result_;
};

template <typename Op>
concept loopvisor_awaited_by_copy = requires {
  typename Op::awaited_by_copy;
};

template <typename Signature, typename Op>
requires loopvisor_awaited_by_copy<Op>
class awaitable_async_op<Signature, Op, any_io_executor> {
 public:
  using handler_type = awaitable_async_op_handler<Signature, any_io_executor>;

  awaitable_async_op(Op op, awaitable_frame_base<any_io_executor>* frame)
      : op_(std::move(op)), frame_(frame) {}

  bool await_ready() const noexcept { return false; }

  void await_suspend(coroutine_handle<void>) {
    frame_->after_suspend(
        [](void* arg) {
          auto* self = static_cast<awaitable_async_op*>(arg);
          self->op_(handler_type(self->frame_->detach_thread(), self->result_));
        },
        this);
  }

  auto await_resume() { return handler_type::resume(result_); }

 private:
  Op op_;
  awaitable_frame_base<any_io_executor>* frame_;
  typename handler_type::result_type result_{};
};

}  // namespace boost::asio::detail

#endif
