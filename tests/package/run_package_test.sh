#!/usr/bin/env bash
# Installs the built library into a temporary prefix, then configures, builds and runs a
# consumer project against that install tree with find_package(loopvisor).
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/loopvisor/loopvisor.hpp"
test -f "$work/prefix/lib/cmake/loopvisor/loopvisorConfigVersion.cmake"
cmake -S "$source_dir/tests/package/consumer" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure.log"
cmake --build "$work/build" > "$work/build.log"
"$work/build/consumer"
