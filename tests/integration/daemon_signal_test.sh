#!/usr/bin/env bash
# loopvisord starts its loops, logs them, and on SIGTERM (or SIGINT) shuts down gracefully
# and exits 0; with TWICE, a second SIGTERM during a shutdown still in progress exits at once
# with 128+15. Every wait is bounded.
set -euo pipefail
daemon=$1
signal=${2:-TERM}
log=$(mktemp)
trap 'rm -f "$log"; kill -9 "$pid" 2>/dev/null || true' EXIT

delay=0
[[ $signal == TWICE ]] && delay=60000  # the shutdown waits a minute: the second signal must cut it short
"$daemon" --loops 2 --shutdown-grace-ms 2000 --admin-listen 127.0.0.1:0 --shutdown-readiness-delay-ms "$delay" \
  > "$log" 2>&1 &
pid=$!

wait_for() {  # wait_for PATTERN SECONDS
  local deadline=$((SECONDS + $2))
  until grep -q "$1" "$log"; do
    if ((SECONDS > deadline)); then echo "timed out waiting for '$1'"; cat "$log"; exit 1; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "daemon died early"; cat "$log"; exit 1; fi
    sleep 0.05
  done
}

wait_for "loopvisord ready: 2 loop(s)" 30
grep -q "loop 0 'lv-loop-0' running" "$log"
grep -q "loop 1 'lv-loop-1' running" "$log"
# The loop threads (and the watchdog) carry their names.
names=$(cat /proc/"$pid"/task/*/comm)
grep -qx "lv-loop-1" <<< "$names"
grep -qx "lv-watchdog" <<< "$names"
grep -qx "lv-admin" <<< "$names"

if [[ $signal == TWICE ]]; then
  kill -s TERM "$pid"
  wait_for "not ready any more" 30
  kill -s TERM "$pid"
  deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS > deadline)); then echo "a second SIGTERM did not end the daemon within 10 s"; cat "$log"; exit 1; fi
    sleep 0.05
  done
  set +e
  wait "$pid"
  code=$?
  set -e
  cat "$log"
  [[ $code -eq 143 ]] || { echo "exit code $code, expected 143 (128 + SIGTERM)"; exit 1; }
  grep -q "again: exiting immediately" "$log"
  echo "daemon SIGTERM twice test passed"
  exit 0
fi

kill -s "$signal" "$pid"
deadline=$((SECONDS + 30))
while kill -0 "$pid" 2>/dev/null; do
  if ((SECONDS > deadline)); then echo "daemon did not exit within 30 s of SIG$signal"; cat "$log"; exit 1; fi
  sleep 0.05
done
set +e
wait "$pid"
code=$?
set -e
cat "$log"
[[ $code -eq 0 ]] || { echo "exit code $code, expected 0"; exit 1; }
grep -q "shutting down gracefully" "$log"
grep -q "shutdown complete: runtime completed=0 cancelled=0 abandoned=0" "$log"
grep -q "loopvisord exiting" "$log"
echo "daemon SIG$signal test passed"
