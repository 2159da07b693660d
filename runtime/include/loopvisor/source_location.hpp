// loopvisor::source_location: std::source_location, or a stand-in where the compiler lacks it.
#pragma once

#include <version>

#if defined(__cpp_lib_source_location)
#include <source_location>
#endif

namespace loopvisor {

#if defined(__cpp_lib_source_location)
/// Where a task was created, for diagnostics. GCC 12 (the project's compiler): std's own.
using source_location = std::source_location;
#else
/// clang 14 with GCC 12's libstdc++ has no std::source_location (it needs a builtin clang 15
/// added); the fuzz targets build with that clang, so it gets this stand-in with the same
/// members, filled by the builtins clang 14 does have.
class source_location {
 public:
  static constexpr source_location current(const char* file = __builtin_FILE(),
                                           const char* function = __builtin_FUNCTION(),
                                           unsigned line = __builtin_LINE()) noexcept {
    source_location where;
    where.file_ = file;
    where.function_ = function;
    where.line_ = line;
    return where;
  }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr const char* function_name() const noexcept { return function_; }
  constexpr unsigned line() const noexcept { return line_; }
  constexpr unsigned column() const noexcept { return 0; }

 private:
  const char* file_ = "";
  const char* function_ = "";
  unsigned line_ = 0;
};
#endif

}  // namespace loopvisor
