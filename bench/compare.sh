#!/usr/bin/env bash
# The comparison command: installs the peers' packages (libuv, Tokio's crates and the Rust
# toolchain, uvloop), builds loopvisor's release preset with the peer programs, builds the libuv
# and Tokio peers, then runs W1-W6 for every implementation in the same run (bench/compare.py;
# its options pass through, e.g. --rounds 3 --workloads W1,W4). Timing never gates a test.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh --peers
cmake --preset release > /dev/null
cmake --build --preset release --target loopvisor_peer asio_peer
peers=build/release/bench/peers
mkdir -p "$peers"
cp build/release/bench/loopvisor_peer build/release/bench/asio_peer "$peers/"
cc -O2 -Wall -Wextra -Werror -o "$peers/libuv_peer" bench/peers/libuv_peer.c -luv -lpthread
# Debian's toolchain explicitly: a rustup install on PATH would not match Debian's crates. Cargo
# reads .cargo/config.toml (crates from /usr/share/cargo/registry, offline) from the directory it
# runs in.
(cd bench/peers/tokio_peer &&
  RUSTC=/usr/bin/rustc /usr/bin/cargo build --quiet --release --target-dir ../../../build/release/bench/tokio-target)
cp build/release/bench/tokio-target/release/tokio_peer "$peers/"
exec /usr/bin/python3 bench/compare.py --peers "$peers" "$@"
