#!/usr/bin/env bash
# loopvisord scraped by a real Prometheus: the daemon listens on an ephemeral loopback port,
# promtool approves its live /metrics, Prometheus (own temp storage, loopback only, the shipped
# deploy/prometheus settings and alert rules) reports the target up and answers queries for
# up == 1 and a loopvisor metric; `loopvisord healthcheck` agrees. The stall drill: a block job
# freezes loop 1 and LoopvisorLoopStalled must fire through Prometheus' own alerts API. On
# SIGTERM /readyz fails first while /healthz still answers. Everything started here is stopped
# at the end; every wait is bounded.
set -euo pipefail
daemon=$1
src=$2
work=$(mktemp -d)
daemon_pid=""
prom_pid=""
cleanup() {
  [[ -n $prom_pid ]] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
  [[ -n $daemon_pid ]] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- loopvisord log"; cat "$work/daemon.log" 2>/dev/null || true
  echo "--- prometheus log (tail)"; tail -n 30 "$work/prometheus.log" 2>/dev/null || true
  exit 1
}
source "$(dirname "${BASH_SOURCE[0]}")/wait_until.sh"

echo "t0ken-$$" > "$work/token"
"$daemon" --loops 2 --admin-listen 127.0.0.1:0 --shutdown-readiness-delay-ms 3000 \
  --jobs-allow-block true --admin-auth-token-file "$work/token" > "$work/daemon.log" 2>&1 &
daemon_pid=$!
listening() { grep -qs "admin: listening on 127.0.0.1:" "$work/daemon.log"; }
wait_until 30 "loopvisord to listen" listening
port=$(grep -m1 -o "admin: listening on 127.0.0.1:[0-9]*" "$work/daemon.log" | sed 's/.*://')
admin="http://127.0.0.1:$port"
echo "loopvisord admin at $admin"

# The live /metrics body: Prometheus' own linter finds nothing, and the header is right.
curl -fsS -D "$work/headers" "$admin/metrics" -o "$work/metrics.txt" || fail "GET /metrics"
grep -qi "^content-type: text/plain; version=0.0.4; charset=utf-8" "$work/headers" || fail "content type: $(cat "$work/headers")"
if ! promtool check metrics < "$work/metrics.txt" > "$work/promtool.out" 2>&1; then
  cat "$work/promtool.out"; fail "promtool check metrics complained"
fi
[[ ! -s $work/promtool.out ]] || { cat "$work/promtool.out"; fail "promtool printed findings"; }
grep -q '^loopvisor_loop_callbacks_total{loop="1"}' "$work/metrics.txt" || fail "no per-loop metric in /metrics"
"$daemon" healthcheck --admin-listen "127.0.0.1:$port" || fail "loopvisord healthcheck"
grep -q '"ready":true' <<< "$(curl -fsS "$admin/readyz")" || fail "/readyz not ready"

# A free loopback port for Prometheus' own web server.
prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The shipped host configuration (its scrape and evaluation intervals, its rule file), pointed
# at this daemon.
cp "$src/deploy/prometheus/loopvisor-alerts.yml" "$work/"
sed "s/127\.0\.0\.1:9470/127.0.0.1:$port/" "$src/deploy/prometheus/prometheus.yml" > "$work/prometheus.yml"
grep -q "127.0.0.1:$port" "$work/prometheus.yml" || fail "the shipped prometheus.yml no longer scrapes 127.0.0.1:9470"
promtool check config "$work/prometheus.yml" > "$work/promtool.out" 2>&1 ||
  { cat "$work/promtool.out"; fail "promtool check config"; }
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --web.listen-address="127.0.0.1:$prom_port" > "$work/prometheus.log" 2>&1 &
prom_pid=$!
api="http://127.0.0.1:$prom_port/api/v1"

target_up() { grep -q '"health":"up"' <<< "$(curl -fsS "$api/targets" 2>/dev/null)"; }
wait_until 90 "Prometheus to report the loopvisord target up" target_up
query() { curl -fsS --get "$api/query" --data-urlencode "query=$1"; }
up_is_one() { grep -q '"value":\[[0-9.]*,"1"\]' <<< "$(query 'up{job="loopvisord"}' 2>/dev/null)"; }
wait_until 30 "up{job=\"loopvisord\"} == 1" up_is_one
has_loop_metric() {
  grep -q '"loop":"1"' <<< "$(query 'loopvisor_loop_callbacks_total{job="loopvisord",loop="1"}' 2>/dev/null)"
}
wait_until 30 "loopvisor_loop_callbacks_total in Prometheus" has_loop_metric
has_build_info() { grep -q '"version":' <<< "$(query 'loopvisor_build_info == 1' 2>/dev/null)"; }
wait_until 30 "loopvisor_build_info in Prometheus" has_build_info
echo "prometheus: target up, up == 1, loopvisor metrics queryable"

# The stall drill, as docs/runbook.md tells operators to run it: a block job freezes loop 1;
# the watchdog marks it stalled, Prometheus scrapes that and LoopvisorLoopStalled goes pending,
# then firing, for loop 1 only. The alert rules' own timing is checked by promtool test rules
# (deploy_files); here the time the real pipeline took is printed.
auth=(-H "Authorization: Bearer t0ken-$$")
block_ms=50000
drill_start=$SECONDS
code=$(curl -sS "${auth[@]}" -H 'Content-Type: application/json' -o "$work/job" -w '%{http_code}' \
  -X POST "$admin/v1/jobs" -d "{\"kind\":\"block\",\"loop\":1,\"args\":{\"duration_ms\":$block_ms}}") ||
  fail "POST the block job"
[[ $code == 202 ]] || fail "POST the block job: $code $(cat "$work/job")"
job_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/job")
stall_firing() {
  grep -q '"loop":"1"' <<< "$(query 'ALERTS{alertname="LoopvisorLoopStalled",alertstate="firing"}' 2>/dev/null)"
}
wait_until 48 "LoopvisorLoopStalled to fire in Prometheus while loop 1 is blocked" stall_firing
echo "stall drill: LoopvisorLoopStalled firing $((SECONDS - drill_start)) s after loop 1 was blocked"
others=$(query 'ALERTS{alertname="LoopvisorLoopStalled",loop!="1"}') || fail "query ALERTS"
grep -q '"result":\[\]' <<< "$others" || fail "LoopvisorLoopStalled for a loop that was not blocked: $others"
# The block runs to its end, and its job answers succeeded.
curl -fsS "${auth[@]}" -o "$work/job" "$admin/v1/jobs/$job_id?wait_ms=$((block_ms + 10000))" || fail "GET the block job"
grep -q '"state":"succeeded"' "$work/job" || fail "block job after its end: $(cat "$work/job")"

# SIGTERM: readiness fails at once (naming the drain) while liveness and metrics still answer.
kill -TERM "$daemon_pid"
draining() {
  local code
  code=$(curl -s -o "$work/readyz" -w '%{http_code}' "$admin/readyz") || return 1
  [[ $code == 503 ]] && grep -q '"reason":"draining"' "$work/readyz"
}
wait_until 10 "/readyz to answer 503 draining after SIGTERM" draining
grep -q '"status":"alive"' <<< "$(curl -fsS "$admin/healthz")" || fail "/healthz while draining"
grep -q '^loopvisor_loop_stalled' <<< "$(curl -fsS "$admin/metrics")" || fail "/metrics while draining"
echo "draining: /readyz 503, /healthz 200"
deadline=$((SECONDS + 30))
while kill -0 "$daemon_pid" 2>/dev/null; do
  ((SECONDS <= deadline)) || fail "loopvisord did not exit after SIGTERM"
  sleep 0.1
done
wait "$daemon_pid" || fail "loopvisord exit code $?"
daemon_pid=""
echo "prometheus integration test passed"
