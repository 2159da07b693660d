#!/usr/bin/env bash
# Installs what is missing, builds the release preset and runs loopvisord on the shipped
# config/loopvisor.toml (every value at its default).
# Extra arguments go to loopvisord (see loopvisord --help).
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh
cmake --preset release > /dev/null
cmake --build --preset release --target loopvisord
exec ./build/release/service/loopvisord --config config/loopvisor.toml "$@"
