#!/usr/bin/env bash
# Runs README's test command in a fresh Debian 12 (a debootstrap minbase chroot), so a missing
# install step cannot hide behind packages this machine already has. Not part of the suite:
# it needs root, network access to the Debian mirror and about ten minutes.
#   tests/fresh/run-in-fresh-debian.sh [PRESETS]    (default "release"; LV_TEST_PRESETS form)
set -euo pipefail
presets=${1:-release}
repo=$(cd "$(dirname "$0")/../.." && pwd)
[[ $(id -u) -eq 0 ]] || { echo "run as root (debootstrap and chroot need it)" >&2; exit 1; }
command -v debootstrap > /dev/null || apt-get install -y -qq debootstrap
root=$(mktemp -d /var/tmp/loopvisor-fresh.XXXXXX)
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2> /dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT

echo "fresh-debian: debootstrap into $root"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian > "$root.debootstrap.log" 2>&1 ||
  { tail -n 20 "$root.debootstrap.log"; exit 1; }
rm -f "$root.debootstrap.log"
cp /etc/resolv.conf "$root/etc/resolv.conf"
for fs in proc sys dev; do
  mount --bind "/$fs" "$root/$fs"
  mounted+=("$root/$fs")
done
# The committed tree only, as CI sees it.
git clone -q "$repo" "$root/src"
echo "fresh-debian: running tests/run-all.sh with LV_TEST_PRESETS=\"$presets\""
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LV_TEST_PRESETS="$presets" \
  bash -c 'cd /src && ./tests/run-all.sh'
echo "fresh-debian: passed"
