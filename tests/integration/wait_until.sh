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
