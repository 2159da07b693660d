// build_info(): the version header, the generated revision header and the toolchain's macros.
#include "loopvisor/build_info.hpp"

#include <boost/version.hpp>

#include "loopvisor/revision.hpp"
#include "loopvisor/version.hpp"

namespace loopvisor {

namespace {

std::string boost_version() {
  return std::to_string(BOOST_VERSION / 100000) + "." + std::to_string(BOOST_VERSION / 100 % 1000) + "." +
         std::to_string(BOOST_VERSION % 100);
}

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}

}  // namespace

BuildInfo build_info() {
  return {LOOPVISOR_VERSION, LOOPVISOR_REVISION, LOOPVISOR_COMMIT_DATE,
          LOOPVISOR_DIRTY,   boost_version(),    compiler()};
}

}  // namespace loopvisor
