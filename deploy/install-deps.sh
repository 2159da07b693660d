#!/usr/bin/env bash
# Installs every Debian 12 package loopvisor's build, tests and benchmarks need; safe to re-run.
# With --runtime, only what a built loopvisord needs to run (for the container's final stage);
# with --build, only what building loopvisord needs (the container's build stage);
# --list-runtime prints those packages (tests check them against the binary's libraries).
# With --peers, also the benchmark peers bench/compare.sh builds: libuv, and Tokio with the Rust
# toolchain that builds it offline from Debian's crate packages.
set -euo pipefail

# One package per shared library loopvisord links, plus tini for the container; nothing else
# (the daemon makes no TLS connection, so no ca-certificates, which would pull in OpenSSL).
# libc6, libgcc-s1 and libstdc++6 are in every Debian image.
runtime_packages=(
  libboost-thread1.81.0 libboost-json1.81.0 libboost-url1.81.0
  libboost-program-options1.81.0 libprometheus-cpp-core1.0 libtomlplusplus3 libspdlog1.10 libfmt9
  tini
)

# What building loopvisord alone needs (the container's build stage: no tests, examples or
# benchmarks): the toolchain and the libraries' development packages.
build_packages=(
  build-essential cmake ninja-build
  libboost1.81-dev libboost-thread1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libboost-program-options1.81-dev libspdlog-dev libfmt-dev libssl-dev prometheus-cpp-dev
  libtomlplusplus-dev
)

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  # the suite checks formatting first (tests/check-format.sh)
  clang-format
  # runtime: Asio, Boost.Thread (named loop threads), Boost.JSON/URL for the daemon
  libboost1.81-all-dev libboost-json1.81-dev libboost-url1.81-dev
  # logging (spdlog brings fmt, since GCC 12 has no <format>)
  libspdlog-dev libfmt-dev
  # TLS streams (the loopvisor::tls target, on Asio's OpenSSL support); the daemon does not link it
  libssl-dev
  # metrics and config (used by the daemon)
  prometheus-cpp-dev libtomlplusplus-dev
  # tests and benchmarks; clang with its libFuzzer runtime for the config fuzz test
  googletest libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  # integration tests scrape the daemon with a real Prometheus server (promtool checks
  # /metrics) and talk HTTP to the daemon and to Prometheus with curl
  prometheus curl
  # the deploy files are checked by the tools that read them
  systemd python3-yaml strace procps
  # the admin API's OpenAPI document and the daemon's answers are validated as JSON Schema
  python3-jsonschema
  # benchmark peers (Python asyncio and uvloop)
  python3 python3-uvloop
  # container entrypoint reaper (used by the Dockerfile)
  tini
)

peer_packages=(libuv1-dev cargo rustc librust-tokio-dev)

if [[ ${1:-} == "--list-runtime" ]]; then
  printf '%s\n' "${runtime_packages[@]}"
  exit 0
elif [[ ${1:-} == "--runtime" ]]; then
  packages=("${runtime_packages[@]}")
elif [[ ${1:-} == "--build" ]]; then
  packages=("${build_packages[@]}")
elif [[ ${1:-} == "--peers" ]]; then
  packages+=("${peer_packages[@]}")
elif [[ -n ${1:-} ]]; then
  echo "install-deps: unknown argument '$1' (expected nothing, --build, --runtime, --peers or --list-runtime)" >&2
  exit 2
fi

# The deploy test renders the Kubernetes set with kubectl's built-in kustomize: Debian's
# kubernetes-client, unless a kubectl is installed already (another package that owns
# /usr/bin/kubectl would conflict with it). Not in the container's stages.
if [[ ${1:-} != "--runtime" && ${1:-} != "--build" ]] && ! command -v kubectl > /dev/null; then
  packages+=(kubernetes-client)
fi

missing=()
for p in "${packages[@]}"; do
  if [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
