// Constructors of the exception family.
#include "loopvisor/errors.hpp"

#include <utility>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

namespace loopvisor {

CancelledError::CancelledError() : Error("operation was cancelled") {}
CancelledError::CancelledError(const std::string& what) : Error(what) {}
TimeoutError::TimeoutError(const std::string& what, std::exception_ptr cause)
    : Error(what), cause_(std::move(cause)) {}
InvalidStateError::InvalidStateError(const std::string& what) : Error(what) {}
SubmissionRejected::SubmissionRejected(const std::string& what) : Error(what) {}
RuntimeClosed::RuntimeClosed(const std::string& what) : Error(what) {}
WrongThreadError::WrongThreadError(const std::string& what) : Error(what) {}
GateClosed::GateClosed(const std::string& what) : Error(what) {}

QueueEmpty::QueueEmpty(const std::string& what) : Error(what) {}
QueueFull::QueueFull(const std::string& what) : Error(what) {}
QueueShutDown::QueueShutDown(const std::string& what) : Error(what) {}

IncompleteReadError::IncompleteReadError(const std::string& what, std::string partial)
    : Error(what), partial_(std::move(partial)) {}
LimitOverrunError::LimitOverrunError(const std::string& what) : Error(what) {}

ExceptionGroup::ExceptionGroup(const std::string& what, std::vector<std::exception_ptr> exceptions)
    : Error(what), exceptions_(std::move(exceptions)) {}

bool is_cancellation(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const CancelledError&) {
    return true;
  } catch (const boost::system::system_error& se) {
    return se.code() == boost::asio::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

}  // namespace loopvisor
