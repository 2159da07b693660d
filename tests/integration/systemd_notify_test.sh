#!/usr/bin/env bash
# loopvisord under a stand-in for systemd: a unix datagram socket in $NOTIFY_SOCKET receives
# READY=1 once the daemon serves, WATCHDOG=1 pings at half of $WATCHDOG_USEC — withheld while a
# loop is stalled (a block job freezes one on purpose), resumed after — and STOPPING=1 on
# SIGTERM; the daemon then exits 0. Every wait is bounded.
set -euo pipefail
daemon=$1
work=$(mktemp -d)
trap 'rm -rf "$work"; [[ -n ${pid:-} ]] && kill -9 "$pid" 2>/dev/null || true' EXIT

# The listener prints each datagram on one line (newlines as '|') until STOPPING=1 or 30 s.
python3 - "$work/notify.sock" > "$work/messages" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(1.0)
deadline = time.time() + 30
while time.time() < deadline:
    try:
        data = s.recv(4096).decode()
    except socket.timeout:
        continue
    print(data.replace("\n", "|"), flush=True)
    if "STOPPING=1" in data:
        break
PY
listener=$!
for _ in $(seq 100); do [[ -S $work/notify.sock ]] && break; sleep 0.05; done
[[ -S $work/notify.sock ]] || { echo "the listener socket did not appear"; exit 1; }

NOTIFY_SOCKET="$work/notify.sock" WATCHDOG_USEC=200000 \
  "$daemon" --loops 1 --admin-listen 127.0.0.1:0 --jobs-allow-block true > "$work/log" 2>&1 &
pid=$!
wait_for() {  # wait_for PATTERN SECONDS
  local deadline=$((SECONDS + $2))
  until grep -q "$1" "$work/messages"; do
    if ((SECONDS > deadline)); then echo "no '$1' from loopvisord"; cat "$work/messages" "$work/log"; exit 1; fi
    sleep 0.05
  done
}
wait_for "^READY=1|STATUS=serving with 1 loop(s)$" 30
grep -q "admin: listening" "$work/log"  # READY comes after the admin server listens
deadline=$((SECONDS + 10))
until (($(grep -c "^WATCHDOG=1$" "$work/messages") >= 3)); do  # pings keep coming, 100 ms apart
  if ((SECONDS > deadline)); then echo "fewer than 3 watchdog pings in 10 s"; cat "$work/messages"; exit 1; fi
  sleep 0.05
done
# Freeze the only loop for 2.5 s: once the watchdog calls it stalled (1 s), pings stop until
# it answers again. Before, pings kept coming whatever the loop or admin thread did.
port=$(grep -m1 -o "admin: listening on 127.0.0.1:[0-9]*" "$work/log" | sed 's/.*://')
code=$(curl -sS -o "$work/job" -w '%{http_code}' -H 'Content-Type: application/json' -X POST \
  "http://127.0.0.1:$port/v1/jobs" -d '{"kind":"block","args":{"duration_ms":2500}}')
[[ $code == 202 ]] || { echo "block job: $code $(cat "$work/job")"; exit 1; }
wait_for "^STATUS=withholding watchdog pings: loop 0 ('lv-loop-0') is stalled" 20
wait_for "^STATUS=serving with 1 loop(s)$" 20
python3 - "$work/messages" <<'PY' || { cat "$work/messages"; exit 1; }
import sys
lines = open(sys.argv[1]).read().splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("STATUS=withholding"))
end = next(i for i in range(start, len(lines)) if lines[i] == "STATUS=serving with 1 loop(s)")
pings = [l for l in lines[start:end] if l == "WATCHDOG=1"]
if pings:
    sys.exit(f"{len(pings)} watchdog pings while the loop was stalled")
PY
pings_after_resume() { sed -n '/^STATUS=serving with 1 loop(s)$/,$p' "$work/messages" | grep -c "^WATCHDOG=1$" || true; }
deadline=$((SECONDS + 10))
until (($(pings_after_resume) >= 1)); do
  if ((SECONDS > deadline)); then echo "no ping after the loop answered again"; cat "$work/messages"; exit 1; fi
  sleep 0.05
done
grep -q "systemd watchdog: withholding pings: loop 0" "$work/log"
grep -q "pings resume" "$work/log"

kill -TERM "$pid"
wait_for "^STOPPING=1$" 10
wait "$pid"
pid=""
wait "$listener"
echo "systemd notify test passed"
