#!/usr/bin/env bash
# Builds the config fuzzer with clang (libFuzzer + ASan + UBSan) and runs it for a bounded
# number of inputs from the seed corpus. Exits non-zero on any crash or sanitizer report.
set -euo pipefail
src=$1     # project source dir
build=$2   # project build dir (for the generated version header)
runs=${3:-30000}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# toml++ 3.3.0 states assumptions (TOML_ASSERT_ASSUME) that malformed input breaks. loopvisor
# builds the loader with GCC 12 and NDEBUG, where they compile to nothing (GCC 12 has no
# __builtin_assume); the fuzzer gets the same semantics, and UBSan still catches the real
# undefined behaviour (__builtin_unreachable) the loader must guard against.
clang++ -std=c++20 -O1 -g1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -DNDEBUG '-D__builtin_assume(...)=((void)0)' \
  -DSPDLOG_FMT_EXTERNAL -I"$src/config/include" -I"$src/runtime/include" -I"$build/runtime/include" \
  "$src/tests/fuzz/config_fuzz.cpp" "$src/config/src/loader.cpp" "$src/config/src/schema.cpp" \
  "$src/runtime/src/placement.cpp" -lspdlog -lfmt -o "$out/config_fuzz"
mkdir -p "$out/corpus"
cp "$src"/tests/fuzz/corpus/* "$out/corpus/"
"$out/config_fuzz" -runs="$runs" -max_len=4096 -seed=1 "$out/corpus" 2>&1 | tail -n 5
# Long inputs too: deep nesting (toml++ recurses per key part and per nested value) needs room.
"$out/config_fuzz" -runs=$((runs / 10)) -max_len=65536 -seed=2 "$out/corpus" 2>&1 | tail -n 5
echo "config fuzz: $runs runs without a finding"
