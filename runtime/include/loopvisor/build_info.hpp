// build_info(): which build of loopvisor this process runs (version, git revision, toolchain).
#pragma once

#include <string>

namespace loopvisor {

struct BuildInfo {
  std::string version;      ///< LOOPVISOR_VERSION, e.g. "0.1.0"
  std::string revision;     ///< the git commit built, or "unknown" (no git, no REVISION given)
  std::string commit_date;  ///< that commit's date (RFC 3339), or "unknown"
  bool dirty = false;       ///< the work tree had uncommitted changes when it was built
  std::string boost;        ///< Boost version compiled against, e.g. "1.81.0"
  std::string compiler;     ///< e.g. "gcc 12.2.0"
};

/// The build of the loopvisor library linked into this process.
[[nodiscard]] BuildInfo build_info();

}  // namespace loopvisor
