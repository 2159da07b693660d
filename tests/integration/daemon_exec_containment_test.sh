#!/usr/bin/env bash
# Exec jobs on the real daemon are contained: a child that ignores its input cannot kill the
# daemon (SIGPIPE), a child holds stdin/stdout/stderr only and the environment [jobs] exec_env
# gives it, whatever it leaves running is killed with it (on exit and on timeout), and after a
# SIGKILL of the daemon no child keeps the admin port: a restart on it succeeds. Bounded waits.
set -euo pipefail
daemon=$1
work=$(mktemp -d)
pid=""
cleanup() {  # every step, whatever the one before returned
  if [[ -n $pid ]]; then kill -9 "$pid" 2>/dev/null || true; fi
  for f in "$work"/gc-*; do
    if [[ -f $f ]]; then kill -9 "$(cat "$f")" 2>/dev/null || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { fail_with_log "$@"; }
source "$(dirname "${BASH_SOURCE[0]}")/wait_until.sh"

start() {  # start PORT: a daemon on 127.0.0.1:PORT; sets pid and port
  : > "$work/daemon.log"
  "$daemon" --loops 2 --admin-listen "127.0.0.1:$1" --shutdown-grace-ms 300 --admin-max-body-bytes 1048576 \
    --jobs-exec-allow /bin/true,/bin/sh,/usr/bin/env --jobs-exec-kill-grace-ms 200 > "$work/daemon.log" 2>&1 &
  pid=$!
  listening() { grep -q "admin: listening on 127.0.0.1:" "$work/daemon.log" || ! kill -0 "$pid" 2>/dev/null; }
  wait_until 30 "loopvisord to listen" listening
  kill -0 "$pid" 2>/dev/null || fail "the daemon did not start"
  port=$(grep -m1 -o "admin: listening on 127.0.0.1:[0-9]*" "$work/daemon.log" | sed 's/.*://')
}
api() { echo "http://127.0.0.1:$port/v1/jobs"; }
post() { curl -sS -H 'Content-Type: application/json' -o "$work/body" -w '%{http_code}' -X POST "$(api)" --data-binary "$1"; }
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])); print(eval("v" + sys.argv[2]))' "$work/body" "$1"; }
# run JSON: posts a job and waits for its end; the record is left in $work/body.
run() {
  local code id
  code=$(post "$1")
  [[ $code == 202 ]] || fail "POST $1 answered $code: $(cat "$work/body")"
  id=$(field '["id"]')
  curl -fsS -o "$work/body" "$(api)/$id?wait_ms=20000" || fail "GET job $id"
}
gone() {  # gone PID: not running (absent, or a zombie its new parent has not reaped yet)
  [[ ! -e /proc/$1/stat ]] || [[ $(sed 's/.*) //' "/proc/$1/stat" | cut -c1) == Z ]]
}

start 0
first_port=$port

# 1. SIGPIPE: children that exit without reading their input (the daemon died with 141).
# More input than a pipe or socket buffers, so the write is still going when the child exits.
python3 -c 'import json; print(json.dumps({"kind": "exec", "args": {"argv": ["/bin/true"], "input": "x" * 600000}}))' \
  > "$work/big.json"
for i in 1 2 3; do
  run "@$work/big.json"
  [[ $(field '["state"]') == succeeded ]] || fail "exec /bin/true with input: $(head -c 300 "$work/body")"
  [[ $(field '["result"]["input_closed"]') == True ]] || fail "input_closed not reported: $(head -c 300 "$work/body")"
done
run '{"kind":"exec","args":{"argv":["/bin/true"],"input":"x"}}'
[[ $(field '["state"]') == succeeded ]] || fail "exec /bin/true with input x: $(cat "$work/body")"
kill -0 "$pid" 2>/dev/null || fail "the daemon died writing to a child that did not read"

# 2. Descriptors: the child holds 0, 1 and 2 only (not the listener, clients or other pipes).
run '{"kind":"exec","args":{"argv":["/bin/sh","-c","for fd in $(seq 0 1023); do [ -e /proc/$$/fd/$fd ] && echo $fd; done; true"]}}'
[[ $(field '["result"]["stdout"]') == $'0\n1\n2' ]] || fail "descriptors open in the child: $(field '["result"]["stdout"]')"

# 3. Environment: exactly [jobs] exec_env (the default: PATH only).
run '{"kind":"exec","args":{"argv":["/usr/bin/env"]}}'
[[ $(field '["result"]["stdout"]') == 'PATH=/usr/local/bin:/usr/bin:/bin' ]] ||
  fail "the child's environment: $(field '["result"]["stdout"]')"

# 4. What a child leaves running dies with it, and the job ends when the child does.
run "{\"kind\":\"exec\",\"args\":{\"argv\":[\"/bin/sh\",\"-c\",\"sleep 60 & echo \$! > $work/gc-exit; echo started\"]}}"
[[ $(field '["state"]') == succeeded ]] || fail "exec with a background child: $(cat "$work/body")"
wait_until 10 "the background child to be killed" gone "$(cat "$work/gc-exit")"

# 5. A time limit stops the whole group.
run "{\"kind\":\"exec\",\"timeout_ms\":500,\"args\":{\"argv\":[\"/bin/sh\",\"-c\",\"sleep 60 & echo \$! > $work/gc-timeout; sleep 60\"]}}"
[[ $(field '["state"]') == timed_out ]] || fail "exec past its limit: $(cat "$work/body")"
wait_until 10 "the group to be stopped on timeout" gone "$(cat "$work/gc-timeout")"

# 6. SIGKILL with a child running: no child keeps the admin port, a restart on it works.
code=$(post "{\"kind\":\"exec\",\"args\":{\"argv\":[\"/bin/sh\",\"-c\",\"echo \$\$ > $work/gc-orphan; exec sleep 60\"]}}")
[[ $code == 202 ]] || fail "POST the long exec job: $code"
wait_until 10 "the long child to start" test -s "$work/gc-orphan"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=""
wait_until 10 "the orphaned child to die with the daemon" gone "$(cat "$work/gc-orphan")"
start "$first_port"
[[ $port == "$first_port" ]] || fail "restarted on port $port, expected $first_port"
curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" || fail "the restarted daemon does not answer"
echo "exec containment test passed"
