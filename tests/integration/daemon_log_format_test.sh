#!/usr/bin/env bash
# The daemon's logs as operators collect them: on stderr only (stdout stays empty), as JSON
# lines that each parse when [log] format = "json", and with a syslog priority prefix when
# stderr is the journal (JOURNAL_STREAM naming stderr's device and inode, as systemd sets it).
set -euo pipefail
daemon=$1
work=$(mktemp -d)
pid=""
cleanup() { [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.err; do echo "--- $f"; cat "$f"; done; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/wait_until.sh"

# run_daemon NAME [ENV...]: starts the daemon with stdout and stderr to NAME.out and NAME.err,
# waits until it listens, asks one API route (an info-level access line), and stops it.
run_daemon() {
  local name=$1
  shift
  : > "$work/$name.err"
  if [[ $name == journal ]]; then
    # What systemd does: JOURNAL_STREAM names the device and inode of the unit's stderr.
    local stream
    stream=$(stat -c '%d:%i' "$work/$name.err")
    env "$@" JOURNAL_STREAM="$stream" "$daemon" --admin-listen 127.0.0.1:0 > "$work/$name.out" 2>> "$work/$name.err" &
  else
    env "$@" "$daemon" --admin-listen 127.0.0.1:0 > "$work/$name.out" 2>> "$work/$name.err" &
  fi
  pid=$!
  wait_until 30 "$name: loopvisord to listen" grep -q "admin: listening on 127.0.0.1:" "$work/$name.err"
  local port
  port=$(grep -m1 -o "admin: listening on 127.0.0.1:[0-9]*" "$work/$name.err" | sed 's/.*://')
  curl -sS -o /dev/null "http://127.0.0.1:$port/debug/loops"
  kill -s TERM "$pid"
  wait_for_exit 30
  [[ $exit_code == 0 ]] || fail "$name: exit code $exit_code"
  [[ ! -s $work/$name.out ]] || fail "$name: the daemon wrote to stdout: $(head -3 "$work/$name.out")"
}

run_daemon text
grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z \[info\] ' <<< "$(head -1 "$work/text.err")" ||
  fail "a text line does not start with a UTC timestamp and the level: $(head -1 "$work/text.err")"
grep -q 'admin access: GET /debug/loops 200' "$work/text.err" || fail "no access line for the API request"

run_daemon json LOOPVISOR_LOG_FORMAT=json
python3 - "$work/json.err" <<'PY' || fail "the JSON log"
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) >= 3, lines
for line in lines:
    record = json.loads(line)
    assert set(record) >= {"ts", "level", "logger", "msg"}, record
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["ts"]), record["ts"]
assert any("admin access: GET /debug/loops 200" in json.loads(l)["msg"] for l in lines), lines
PY

run_daemon journal
while read -r first; do
  [[ $first =~ ^\<[2-7]\>[0-9]{4}- ]] || fail "a journal line without its priority: $first"
done < "$work/journal.err"
grep -q '^<6>.*admin access: GET /debug/loops 200' "$work/journal.err" || fail "info is not <6>"

code=0
"$daemon" --log-format yaml --check-config > "$work/bad.out" 2>&1 || code=$?
[[ $code == 2 ]] && grep -q 'log.format' "$work/bad.out" || fail "--log-format yaml: exit $code: $(cat "$work/bad.out")"
echo "daemon log format test passed"
