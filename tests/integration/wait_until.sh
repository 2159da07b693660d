# Sourced by the integration tests: wait_until SECONDS DESCRIPTION COMMAND... runs COMMAND
# until it succeeds, or calls the test's own fail() once SECONDS have passed.
wait_until() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    ((SECONDS <= deadline)) || fail "timed out after ${deadline}s waiting for: $what"
    sleep 0.05
  done
}

# fail_with_log MESSAGE: the daemon tests' failure: MESSAGE, then the log in $work/daemon.log.
fail_with_log() {
  echo "FAIL: $*"
  echo "--- loopvisord log"; cat "$work/daemon.log" 2>/dev/null || true
  exit 1
}

# wait_for_exit SECONDS: waits (bounded, through fail) for the daemon $pid to exit, then sets
# exit_code to its exit status and clears pid.
wait_for_exit() {
  local deadline=$((SECONDS + $1))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS <= deadline)) || fail "timed out after $1 s waiting for the daemon to exit"
    sleep 0.05
  done
  set +e
  wait "$pid"
  exit_code=$?
  set -e
  pid=""
}
