#!/usr/bin/env bash
# Installs the library into a temporary prefix, then configures, builds and runs a consumer
# project against that install tree with find_package(loopvisor): first the static build under
# test ($1), then a shared build (LOOPVISOR_SHARED=ON) of the same sources made here, whose
# SONAME, exported symbols and use by the consumer are checked too.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

consume() {  # consume PREFIX NAME: build and run the consumer against PREFIX
  local prefix=$1 name=$2
  cmake -S "$source_dir/tests/package/consumer" -B "$work/consumer-$name" -G Ninja \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release > "$work/configure-$name.log"
  cmake --build "$work/consumer-$name" > "$work/build-$name.log" ||
    { cat "$work/build-$name.log"; exit 1; }
  "$work/consumer-$name/consumer"
}

# Static: the build under test.
cmake --install "$build_dir" --prefix "$work/static" > "$work/install-static.log"
test -f "$work/static/include/loopvisor/loopvisor.hpp"
test -f "$work/static/lib/cmake/loopvisor/loopvisorConfigVersion.cmake"
test -f "$work/static/lib/libloopvisor.a"
test -f "$work/static/lib/libloopvisor_tls.a"
consume "$work/static" static

# Shared: the library alone (unoptimised and in unity batches, to keep this quick: the static
# build under test already compiled each file on its own).
cmake -S "$source_dir" -B "$work/shared-build" -G Ninja -DLOOPVISOR_SHARED=ON -DLOOPVISOR_WERROR=ON \
  -DLOOPVISOR_UNITY_BUILD=ON \
  -DLOOPVISOR_BUILD_TESTS=OFF -DLOOPVISOR_BUILD_SERVICE=OFF -DLOOPVISOR_BUILD_EXAMPLES=OFF \
  -DLOOPVISOR_BUILD_BENCH=OFF > "$work/configure-shared.log"
cmake --build "$work/shared-build" > "$work/build-shared.log" || { cat "$work/build-shared.log"; exit 1; }
cmake --install "$work/shared-build" --prefix "$work/shared" > "$work/install-shared.log"
lib="$work/shared/lib/libloopvisor.so"
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
version=$(sed -n 's/^project(loopvisor VERSION \([0-9]*\.[0-9]*\).*/\1/p' "$source_dir/CMakeLists.txt")
[[ $soname == "libloopvisor.so.$version" ]] || { echo "SONAME is '$soname', expected libloopvisor.so.$version"; exit 1; }
test -L "$work/shared/lib/libloopvisor.so.$version"
exported=$(nm -D --defined-only -C "$lib")
grep -q ' loopvisor::Supervisor::Supervisor(' <<< "$exported" || { echo "the Supervisor is not exported"; exit 1; }
grep -q ' typeinfo for loopvisor::Error$' <<< "$exported" || { echo "loopvisor::Error's typeinfo is not exported"; exit 1; }
foreign=$(grep -E '^[0-9a-f]+ [A-Za-z] (std|fmt|spdlog|__gnu_cxx)::' <<< "$exported" || true)
if [[ -n $foreign ]]; then
  head -5 <<< "$foreign"
  echo "the shared library exports names that are not loopvisor's or Boost's (above)"
  exit 1
fi
consume "$work/shared" shared
needed=$(readelf -d "$work/consumer-shared/consumer" | grep NEEDED)
grep -q "libloopvisor.so.$version" <<< "$needed" || { echo "the consumer does not load the shared library"; exit 1; }
echo "package test: static and shared (SONAME $soname) both found, linked and run"
