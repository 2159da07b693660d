// The exception family loopvisor throws: one base type, one subtype per thing that went wrong.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace loopvisor {

/// Base of every error loopvisor raises. Messages say what happened and what to do.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A task or future was cancelled (asyncio.CancelledError). Thrown by `result()`/`get()` of a
/// cancelled task or future and by `co_await` on one.
class CancelledError : public Error {
 public:
  CancelledError();
  explicit CancelledError(const std::string& what);
};

/// A bounded wait ran out of time (`ThreadFuture::get(timeout)`, `wait_for`, `Timeout`).
/// When the timeout cancelled work to get here, `cause()` is the CancelledError that work
/// ended with (asyncio chains it as `__cause__`); null otherwise.
class TimeoutError : public Error {
 public:
  explicit TimeoutError(const std::string& what, std::exception_ptr cause = nullptr);
  const std::exception_ptr& cause() const noexcept { return cause_; }

 private:
  std::exception_ptr cause_;
};

/// An operation is not valid in the object's current state (asyncio.InvalidStateError), for
/// example `result()` of a task that has not finished.
class InvalidStateError : public Error {
 public:
  explicit InvalidStateError(const std::string& what);
};

/// A loop's submission queue was full; the submission was not accepted and will not run.
/// Retry later, submit to another loop, or raise the queue capacity.
class SubmissionRejected : public Error {
 public:
  explicit SubmissionRejected(const std::string& what);
};

/// The runtime (a loop or the supervisor) is shutting down or stopped: the submission was not
/// accepted and will not run.
class RuntimeClosed : public Error {
 public:
  explicit RuntimeClosed(const std::string& what);
};

/// An API was called from a thread it may not be called from: an on-loop API off its loop, or a
/// blocking API (shutdown, `get()`) from a loop thread where it would deadlock.
class WrongThreadError : public Error {
 public:
  explicit WrongThreadError(const std::string& what);
};

/// Gate::enter after the gate was closed (Seastar's gate_closed_exception).
class GateClosed : public Error {
 public:
  explicit GateClosed(const std::string& what);
};

/// Queue::get_nowait on an empty queue (asyncio.QueueEmpty).
class QueueEmpty : public Error {
 public:
  explicit QueueEmpty(const std::string& what);
};

/// Queue::put_nowait on a full queue (asyncio.QueueFull).
class QueueFull : public Error {
 public:
  explicit QueueFull(const std::string& what);
};

/// A queue or channel was shut down (asyncio.QueueShutDown): no more puts, and gets once
/// it is empty.
class QueueShutDown : public Error {
 public:
  explicit QueueShutDown(const std::string& what);
};

/// A stream ended before the requested data arrived (asyncio.IncompleteReadError); `partial()`
/// holds what was read.
class IncompleteReadError : public Error {
 public:
  IncompleteReadError(const std::string& what, std::string partial);
  const std::string& partial() const noexcept { return partial_; }

 private:
  std::string partial_;
};

/// A read_until found no delimiter within the stream's limit (asyncio.LimitOverrunError).
class LimitOverrunError : public Error {
 public:
  explicit LimitOverrunError(const std::string& what);
};

/// Several exceptions at once (Python's ExceptionGroup): raised by TaskGroup with the error of
/// every child that failed, in the order they failed.
class ExceptionGroup : public Error {
 public:
  ExceptionGroup(const std::string& what, std::vector<std::exception_ptr> exceptions);
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::vector<std::exception_ptr> exceptions_;
};

/// True if `e` is a cancellation: CancelledError, or Asio's operation_aborted (what an Asio
/// operation raises when its task is cancelled).
bool is_cancellation(const std::exception_ptr& e) noexcept;

}  // namespace loopvisor
