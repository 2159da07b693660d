#!/usr/bin/env bash
# loopvisord's configuration from the outside: the shipped file checks out, precedence and
# sources show in --print-config, bad input stops it with exit code 2 and a message naming
# the setting and its source, and healthcheck fails when nothing answers.
set -euo pipefail
daemon=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_error() {  # expect_error PATTERN COMMAND...: exit code 2 and PATTERN on stderr
  local pattern=$1
  shift
  set +e
  "$@" > "$work/out" 2> "$work/err"
  local code=$?
  set -e
  [[ $code -eq 2 ]] || fail "exit code $code (want 2) from: $* ($(cat "$work/err"))"
  grep -qF -- "$pattern" "$work/err" || fail "stderr of '$*' lacks '$pattern': $(cat "$work/err")"
}

grep -q "configuration is valid" <<< "$("$daemon" --check-config --config "$src/config/loopvisor.toml")" || fail "shipped file"
grep -q -- "--admin-listen VALUE" <<< "$("$daemon" --help)" || fail "--help lacks --admin-listen"

LOOPVISOR_CONFIG="$src/config/loopvisor.toml" LOOPVISOR_RUNTIME_LOOPS=3 \
  "$daemon" --print-config --admin-listen 127.0.0.1:9999 > "$work/printed"
grep -q '^loops = 3  # env LOOPVISOR_RUNTIME_LOOPS$' "$work/printed" || fail "env source: $(cat "$work/printed")"
grep -q '^listen = "127.0.0.1:9999"  # flag --admin-listen$' "$work/printed" || fail "flag source"
grep -q "^placement = \"round_robin\"  # file $src/config/loopvisor.toml:" "$work/printed" || fail "file source"

expect_error "admin.listen = nowhere" env LOOPVISOR_ADMIN_LISTEN=nowhere "$daemon" --check-config
expect_error "(from env LOOPVISOR_ADMIN_LISTEN)" env LOOPVISOR_ADMIN_LISTEN=nowhere "$daemon"
expect_error "unrecognised option '--lops'" "$daemon" --lops 2
printf '[runtime]\nloops = "four"\n' > "$work/bad.toml"
expect_error "runtime.loops = 'four': not an integer" "$daemon" --config "$work/bad.toml"
expect_error "$work/bad.toml:2:9" "$daemon" --config "$work/bad.toml"

# Nothing listens on this port (bound by nobody: the kernel picked it and it was released).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
set +e
"$daemon" healthcheck --admin-listen "127.0.0.1:$port" 2> "$work/err"
code=$?
set -e
[[ $code -eq 1 ]] || fail "healthcheck with nothing listening exited $code"
grep -q "127.0.0.1:$port/healthz" "$work/err" || fail "healthcheck message: $(cat "$work/err")"
echo "daemon config test passed"
