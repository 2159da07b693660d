#!/usr/bin/env bash
# Fails if any C++ source in the repository differs from what clang-format (.clang-format) makes
# of it; lists the files. Run by tests/run-all.sh before building.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.ipp' '*.h')
if ((${#files[@]} == 0)); then
  echo "check-format: no sources found (not a git checkout?)" >&2
  exit 1
fi
bad=()
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" > /dev/null 2>&1; then bad+=("$f"); fi
done
if ((${#bad[@]} > 0)); then
  echo "check-format: ${#bad[@]} file(s) are not clang-formatted (run clang-format -i on them):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
