#!/usr/bin/env bash
# Fails on shell pipelines that can fail at random under `set -o pipefail`: a reader that stops
# early (`grep -q`, `grep -m`, `head`) closes the pipe while the writer may still be writing, and
# the writer's SIGPIPE or write error (curl: exit 23) becomes the pipeline's status. Seen in CI:
# `curl -fsS "$base/metrics" | grep -q ...` failed a passing test once. Write the output to a
# file, or match a captured string (`grep -q PATTERN <<< "$(command)"`), or read it all
# (`awk 'NR == 1'`). Run by tests/run-all.sh before building.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
if ((${#scripts[@]} == 0)); then
  echo "check-scripts: no scripts found (not a git checkout?)" >&2
  exit 1
fi
# A pipe into an early-exit reader, on one line or continued from the line before; comments
# are skipped (this script's own explanation above would match).
found=$(awk '
  FNR == 1 { previous = "" }
  /^[[:space:]]*#/ { next }
  {
    line = previous $0
    if (line ~ /(^|[^|])\|[[:space:]]*(grep[[:space:]]+(-[[:alnum:]]*[qm]|--quiet|--max-count)|head([[:space:]]|$))/)
      printf "  %s:%d: %s\n", FILENAME, FNR, $0
    previous = ($0 ~ /(^|[^|])\|[[:space:]]*$/) ? $0 : ""
  }' "${scripts[@]}")
if [[ -n $found ]]; then
  echo "check-scripts: pipes into a reader that may stop early (fails at random under pipefail):" >&2
  echo "$found" >&2
  exit 1
fi
echo "check-scripts: ${#scripts[@]} scripts, no early-exit pipes"
