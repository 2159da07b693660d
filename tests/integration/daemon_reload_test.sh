#!/usr/bin/env bash
# SIGHUP and POST /admin/reload on the real daemon: the daemon stays up and a running job keeps
# running; live keys (jobs limits, token, log level) change at once and are logged key by key;
# a key that needs a restart is logged and keeps its value; a bad file is refused, the running
# configuration stays whole, and the reload metrics say so. Every wait is bounded.
set -euo pipefail
daemon=$1
work=$(mktemp -d)
pid=""
cleanup() {
  [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
  [[ -n ${KEEP_LOG:-} ]] && cp "$work/daemon.log" "$KEEP_LOG"; rm -rf "$work"
}
trap cleanup EXIT
fail() { fail_with_log "$@"; }
source "$(dirname "${BASH_SOURCE[0]}")/wait_until.sh"

write_config() {  # write_config MAX_ACTIVE LOOPS LEVEL TOKEN_FILE
  cat > "$work/loopvisor.toml" <<TOML
[runtime]
loops = $2
[admin]
listen = "127.0.0.1:0"
auth_token_file = "$4"
[jobs]
max_active = $1
[shutdown]
grace_ms = 300
[log]
level = "$3"
TOML
}
echo "first-$$" > "$work/token1"
echo "second-$$" > "$work/token2"
write_config 64 2 info "$work/token1"
"$daemon" --config "$work/loopvisor.toml" > "$work/daemon.log" 2>&1 &
pid=$!
listening() { grep -q "admin: listening on 127.0.0.1:" "$work/daemon.log"; }
wait_until 30 "loopvisord to listen" listening
port=$(grep -m1 -o "admin: listening on 127.0.0.1:[0-9]*" "$work/daemon.log" | sed 's/.*://')
base="http://127.0.0.1:$port"
token="first-$$"
post_job() { curl -sS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -o "$work/body" \
  -w '%{http_code}' -X POST "$base/v1/jobs" -d "$1"; }
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/body" "$1"; }
metric() { curl -fsS "$base/metrics" | grep "^$1 " | awk '{print $2}'; }
logged() { grep -qF -- "$1" "$work/daemon.log"; }
alive() { kill -0 "$pid" 2>/dev/null || fail "the daemon died"; }

code=$(post_job '{"kind":"sleep","args":{"duration_ms":600000},"name":"nap"}')
[[ $code == 202 ]] || fail "sleep job: $code $(cat "$work/body")"
job=$(field id)
[[ $(metric loopvisor_config_last_reload_successful) == 1 ]] || fail "reload_successful is not 1 at start"
started_at=$(metric loopvisor_config_last_reload_success_timestamp_seconds)

# 1. Nothing changed: SIGHUP must not kill (it used to exit 129 and lose every job).
kill -s HUP "$pid"
wait_until 30 "the first reload" logged "config reload (SIGHUP): nothing changed"
alive

# 2. Live keys and a restart-only key change.
write_config 1 3 debug "$work/token2"
kill -s HUP "$pid"
wait_until 30 "the second reload" logged "config reload (SIGHUP): jobs.max_active: 64 -> 1"
alive
logged "log.level: \"info\" -> \"debug\"" || fail "the log level change was not logged"
logged "runtime.loops = 3 needs a restart to take effect; keeping 2" || fail "loops was not reported as needing a restart"
logged "admin.auth_token_file:" || fail "the token change was not logged"
! grep -q "second-$$" "$work/daemon.log" || fail "the token itself was logged"
code=$(post_job '{"kind":"sleep","args":{"duration_ms":0}}')
[[ $code == 401 ]] || fail "the old token still works after the reload ($code)"
token="second-$$"
code=$(post_job '{"kind":"sleep","args":{"duration_ms":0}}')
[[ $code == 429 ]] || fail "max_active = 1 did not refuse a second job: $code $(cat "$work/body")"
curl -fsS -H "Authorization: Bearer $token" -o "$work/body" "$base/v1/jobs/$job" || fail "GET the running job"
[[ $(field state) == running ]] || fail "the job did not survive the reloads: $(cat "$work/body")"
loops=$(curl -fsS -H "Authorization: Bearer $token" "$base/debug/loops" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["loops"]))')
[[ $loops == 2 ]] || fail "loops changed to $loops without a restart"
after=$(metric loopvisor_config_last_reload_success_timestamp_seconds)
python3 -c "import sys; sys.exit(not float('$after') >= float('$started_at'))" || fail "success timestamp went back"

# 3. A bad file is refused whole.
printf '[jobs]\nmax_active = "many"\n' > "$work/loopvisor.toml"
kill -s HUP "$pid"
wait_until 30 "the refused reload" logged "config reload (SIGHUP) refused; the running configuration stays as it was: jobs.max_active"
alive
[[ $(metric loopvisor_config_last_reload_successful) == 0 ]] || fail "reload_successful is not 0 after a refused reload"
code=$(post_job '{"kind":"sleep","args":{"duration_ms":0}}')
[[ $code == 429 ]] || fail "the refused reload changed the running limits ($code)"

# 4. The same reload over HTTP: token-guarded, 422 while the file is bad, 200 once fixed.
code=$(curl -sS -o "$work/body" -w '%{http_code}' -X POST "$base/admin/reload")
[[ $code == 401 ]] || fail "POST /admin/reload without the token answered $code"
code=$(curl -sS -H "Authorization: Bearer $token" -o "$work/body" -w '%{http_code}' -X POST "$base/admin/reload")
[[ $code == 422 && $(field error) == reload_refused ]] || fail "reload of a bad file answered $code $(cat "$work/body")"
write_config 5 2 info "$work/token2"
code=$(curl -sS -H "Authorization: Bearer $token" -o "$work/body" -w '%{http_code}' -X POST "$base/admin/reload")
[[ $code == 200 ]] || fail "POST /admin/reload answered $code $(cat "$work/body")"
python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); sys.exit(not any("jobs.max_active: 1 -> 5" in l for l in b["applied"]))' \
  "$work/body" || fail "the answer does not list the change: $(cat "$work/body")"
[[ $(metric loopvisor_config_last_reload_successful) == 1 ]] || fail "reload_successful is not 1 after a good reload"

# 5. PUT /admin/log-level: token-guarded, checked, applied at once, logged; a reload sets the
#    file's level again.
put_level() { curl -sS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -o "$work/body" \
  -w '%{http_code}' -X PUT "$base/admin/log-level" -d "$1"; }
code=$(curl -sS -o "$work/body" -w '%{http_code}' -X PUT "$base/admin/log-level" -d '{"level":"debug"}')
[[ $code == 401 ]] || fail "PUT /admin/log-level without the token answered $code"
code=$(put_level '{"level":"loud"}')
[[ $code == 422 ]] && grep -q "one of trace, debug" "$work/body" || fail "level 'loud': $code $(cat "$work/body")"
for bad in 'debug' '{"level":3}' '{"level":"debug","extra":1}' '[]' ''; do
  code=$(put_level "$bad")
  [[ $code == 400 && $(field error) == bad_log_level ]] || fail "body '$bad': $code $(cat "$work/body")"
done
code=$(curl -sS -H "Authorization: Bearer $token" -o "$work/body" -w '%{http_code}' "$base/admin/log-level")
[[ $code == 200 && $(field level) == info ]] || fail "GET /admin/log-level: $code $(cat "$work/body")"
# A probe's access line is at debug: absent at info (it is written before the answer is sent).
curl -fsS -o /dev/null "$base/healthz"
! logged "admin access: GET /healthz 200" || fail "a probe was logged at info"
code=$(put_level '{"level":"debug"}')
[[ $code == 200 && $(field level) == debug && $(field previous) == info ]] || fail "PUT debug: $code $(cat "$work/body")"
logged "log level (PUT /admin/log-level): info -> debug" || fail "the level change was not logged"
logged "admin access: PUT /admin/log-level 200" || fail "the PUT itself is not in the access log"
curl -fsS -o /dev/null "$base/healthz"
wait_until 10 "a probe's access line at debug" logged "admin access: GET /healthz 200"
kill -s HUP "$pid"
wait_until 30 "the reload after PUT" logged 'log.level: "debug" -> "info"'
code=$(curl -sS -H "Authorization: Bearer $token" -o "$work/body" -w '%{http_code}' "$base/admin/log-level")
[[ $(field level) == info ]] || fail "the reload did not set the file's level again: $(cat "$work/body")"

# 6. GET /version is open and agrees with loopvisor_build_info.
curl -fsS -o "$work/body" "$base/version" || fail "GET /version"
revision=$(field revision)
[[ $(field version) =~ ^[0-9]+\.[0-9]+\.[0-9]+$ && -n $revision ]] || fail "/version: $(cat "$work/body")"
# Read the whole page before matching: `curl | grep -q` fails under pipefail when grep
# stops reading at its match and curl's next write finds the pipe closed (exit 23).
curl -fsS -o "$work/metrics" "$base/metrics" || fail "GET /metrics"
grep -q "^loopvisor_build_info{.*revision=\"$revision\"" "$work/metrics" ||
  fail "loopvisor_build_info does not carry revision $revision"
# In a git checkout, the revision is a commit of its history (HEAD when built from a clean
# clone; an ancestor when commits were made since the build).
if [[ -n ${2:-} ]] && git -C "$2" rev-parse HEAD > /dev/null 2>&1; then
  git -C "$2" merge-base --is-ancestor "$revision" HEAD ||
    fail "/version says $revision, which is not a commit of the checkout's history"
fi

# Still serving, and the job still runs until the shutdown cancels it.
kill -s TERM "$pid"
wait_for_exit 30
[[ $exit_code == 0 ]] || fail "exit code $exit_code after SIGTERM"
echo "daemon reload test passed"
