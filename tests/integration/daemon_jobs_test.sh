#!/usr/bin/env bash
# The job API on the real daemon: with a bearer token, an exec job runs an allowed program and
# GET ?wait_ms returns its output; on SIGTERM new jobs are refused with 503 while a running job
# is cancelled by the shutdown, logged as such, and the daemon exits 0. Every wait is bounded.
set -euo pipefail
daemon=$1
work=$(mktemp -d)
pid=""
cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { fail_with_log "$@"; }
source "$(dirname "${BASH_SOURCE[0]}")/wait_until.sh"

echo "t0ken-$$" > "$work/token"
"$daemon" --loops 2 --admin-listen 127.0.0.1:0 --shutdown-grace-ms 300 --jobs-exec-allow /bin/sh \
  --admin-auth-token-file "$work/token" > "$work/daemon.log" 2>&1 &
pid=$!
listening() { grep -q "admin: listening on 127.0.0.1:" "$work/daemon.log"; }
wait_until 30 "loopvisord to listen" listening
port=$(grep -m1 -o "admin: listening on 127.0.0.1:[0-9]*" "$work/daemon.log" | sed 's/.*://')
api="http://127.0.0.1:$port/v1/jobs"
auth=(-H "Authorization: Bearer t0ken-$$")
post() { curl -sS "${auth[@]}" -H 'Content-Type: application/json' -o "$work/body" -w '%{http_code}' -X POST "$api" -d "$1"; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/body" "$1"; }

# Without the token: 401, nothing started.
code=$(curl -sS -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -X POST "$api" -d '{"kind":"sleep","args":{"duration_ms":0}}')
[[ $code == 401 ]] || fail "POST without a token answered $code, expected 401"

code=$(post '{"kind":"exec","args":{"argv":["/bin/sh","-c","echo $((6*7))"]}}')
[[ $code == 202 ]] || fail "exec job: $code $(cat "$work/body")"
exec_id=$(field id)
curl -fsS "${auth[@]}" -o "$work/body" "$api/$exec_id?wait_ms=20000" || fail "GET the exec job"
[[ $(field state) == succeeded ]] || fail "exec job ended $(cat "$work/body")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["result"]; sys.exit(r["stdout"] != "42\n" or r["exit_code"] != 0)' \
  "$work/body" || fail "exec job result: $(cat "$work/body")"

code=$(post '{"kind":"sleep","args":{"duration_ms":600000},"name":"long-nap"}')
[[ $code == 202 ]] || fail "sleep job: $code $(cat "$work/body")"
sleep_id=$(field id)
running() { curl -fsS "${auth[@]}" -o "$work/body" "$api/$sleep_id" && [[ $(field state) == running ]]; }
wait_until 30 "the sleep job to run" running

kill -s TERM "$pid"
draining() { grep -q "not ready any more" "$work/daemon.log"; }
wait_until 30 "the daemon to start draining" draining
code=$(post '{"kind":"sleep","args":{"duration_ms":0}}') || code=refused  # it may already be gone
[[ $code == 503 || $code == refused ]] || fail "POST while draining answered $code, expected 503"
[[ $code == refused ]] || [[ $(field error) == draining ]] || fail "503 body: $(cat "$work/body")"

wait_for_exit 30
[[ $exit_code == 0 ]] || fail "exit status $exit_code after SIGTERM, expected 0"
grep -q "job $sleep_id (sleep 'long-nap') on loop [01] ended cancelled: cancelled by the daemon's shutdown" \
  "$work/daemon.log" || fail "no log line for the cancelled job"
# The shutdown summary counts jobs, not the tasks that ran them (it said completed=6 cancelled=4
# for 3 succeeded and 2 cancelled jobs): here one exec job ended before, one sleep job during.
grep -q "shutdown complete: jobs: 1 active at the start, 0 at the end; ended: 1 cancelled" "$work/daemon.log" ||
  fail "no job summary of the shutdown"
echo "daemon jobs test passed"
