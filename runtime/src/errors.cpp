// Constructors of the exception family.
#include "loopvisor/errors.hpp"

namespace loopvisor {

CancelledError::CancelledError() : Error("operation was cancelled") {}
CancelledError::CancelledError(const std::string& what) : Error(what) {}
TimeoutError::TimeoutError(const std::string& what) : Error(what) {}
InvalidStateError::InvalidStateError(const std::string& what) : Error(what) {}
SubmissionRejected::SubmissionRejected(const std::string& what) : Error(what) {}
RuntimeClosed::RuntimeClosed(const std::string& what) : Error(what) {}
WrongThreadError::WrongThreadError(const std::string& what) : Error(what) {}

}  // namespace loopvisor
