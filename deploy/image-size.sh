#!/usr/bin/env bash
# The size of the container image's final stage, without a container engine: mmdebstrap builds
# the same Debian 12 file system the Dockerfile's runtime stage ends with (a minimal base with
# the slim image's documentation excludes, plus `install-deps.sh --runtime`), the release
# loopvisord and the shipped config file are added, and the total is printed in MB (10^6 bytes,
# uncompressed, as `docker images` shows it). By hand, as root, with network access to the
# Debian mirror; it installs mmdebstrap if missing. Not part of the test suite (network, minutes).
#   deploy/image-size.sh [BUILD_DIR]      BUILD_DIR defaults to build/release
set -euo pipefail
cd "$(dirname "$0")/.."
daemon=${1:-build/release}/service/loopvisord
[[ -x $daemon ]] || { echo "image-size: no $daemon; build the release preset first" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "image-size: run as root (mmdebstrap --mode=root)" >&2; exit 2; }
command -v mmdebstrap > /dev/null || apt-get install -y -qq --no-install-recommends mmdebstrap > /dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The paths debian:12-slim leaves out (its dpkg.cfg.d/docker excludes).
excludes=(--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
          --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/groff/*'
          --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/lintian/*'
          --dpkgopt='path-exclude=/usr/share/linda/*' --dpkgopt='path-exclude=/usr/share/locale/*')
root_size() {  # root_size DIR [PACKAGES]: bytes of a minbase bookworm tree with PACKAGES
  # merged-usr hook: /usr merged as in debian:12-slim, without the usrmerge package (and the
  # 50 MB of perl it pulls in).
  mmdebstrap --quiet --mode=root --variant=minbase --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    "${excludes[@]}" ${2:+--include="$2"} \
    bookworm "$1" > "$work/mmdebstrap.log" 2>&1 || { cat "$work/mmdebstrap.log" >&2; exit 1; }
  du -sb "$1" | cut -f1
}
packages=$(./deploy/install-deps.sh --list-runtime | paste -sd, -)
base=$(root_size "$work/base")
with_packages=$(root_size "$work/image" "$packages")
binary=$(stat -c %s "$daemon")
config=$(stat -c %s config/loopvisor.toml)
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
echo "image-size: base $(mb "$base"), runtime packages $(mb $((with_packages - base))), loopvisord $(mb "$binary")"
echo "image-size: total $(mb $((with_packages + binary + config)))"
