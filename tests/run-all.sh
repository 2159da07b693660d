#!/usr/bin/env bash
# The whole test suite: installs what is missing, then builds and tests the release, tsan
# (ThreadSanitizer) and asan (AddressSanitizer + UBSan) presets. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -eq 0 ]]; then
  ./deploy/install-deps.sh
else
  ./deploy/install-deps.sh || { echo "run as root (or install the packages above) first" >&2; exit 1; }
fi

./tests/check-format.sh
./tests/check-scripts.sh

# LV_TEST_PRESETS picks presets, LV_BUILD_JOBS the build parallelism. (Not LOOPVISOR_*: the
# daemon the integration tests start reads that namespace and refuses names it does not know.)
presets=${LV_TEST_PRESETS:-"release tsan asan"}
jobs=${LV_BUILD_JOBS:-$(nproc)}
for preset in $presets; do
  echo "=== ${preset}: configure and build ==="
  start=$SECONDS
  cmake --preset "$preset" > /dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "=== ${preset}: test ==="
  ctest --preset "$preset" -j "$jobs"
  echo "=== ${preset}: passed in $((SECONDS - start)) s ==="
done
echo "all presets passed: $presets"
