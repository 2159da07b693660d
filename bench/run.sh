#!/usr/bin/env bash
# Runs the C++ benchmarks and the Python peers in one go and prints loopvisor's rate as a
# ratio of each peer's (above 1: loopvisor is faster). Timing never gates a test.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
cmake --preset release -DLOOPVISOR_BUILD_BENCH=ON > /dev/null
cmake --build --preset release --target submit_bench
out=$(mktemp -d)
./build/release/bench/submit_bench --benchmark_format=json --benchmark_min_time=0.5 "$@" > "$out/cpp.json"
python3 bench/peers/asyncio_peer.py > "$out/peers.jsonl"
python3 bench/ratios.py "$out/cpp.json" "$out/peers.jsonl"
