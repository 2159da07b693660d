#!/usr/bin/env bash
# Out of descriptors, the admin server backs off instead of spinning: with `ulimit -n 64` and
# more clients than descriptors, the daemon logs accept failures once per interval (it wrote
# 2.6M identical lines in 14 s and burnt a core), counts them, keeps serving the connections it
# has, and answers new ones once descriptors are free again. Every wait is bounded.
set -euo pipefail
daemon=$1
work=$(mktemp -d)
pid=""
holder=""
cleanup() {  # every step, whatever the one before returned (wait on a killed job returns 137)
  if [[ -n $holder ]]; then kill -9 "$holder" 2>/dev/null || true; wait "$holder" 2>/dev/null || true; fi
  if [[ -n $pid ]]; then kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- loopvisord log (first 40 lines)"; head -n 40 "$work/daemon.log" 2>/dev/null || true
  exit 1
}
source "$(dirname "${BASH_SOURCE[0]}")/wait_until.sh"

(ulimit -n 64 && exec "$daemon" --loops 1 --admin-listen 127.0.0.1:0 --admin-max-connections 1000 \
  --admin-max-connections-per-client 1000 --admin-idle-timeout-ms 60000 > "$work/daemon.log" 2>&1) &
pid=$!
listening() { grep -q "admin: listening on 127.0.0.1:" "$work/daemon.log"; }
wait_until 30 "loopvisord to listen" listening
port=$(grep -m1 -o "admin: listening on 127.0.0.1:[0-9]*" "$work/daemon.log" | sed 's/.*://')

# One keep-alive client first: it must be served throughout.
python3 - "$port" "$work" <<'PY' &
import socket, sys, time, pathlib
port, work = int(sys.argv[1]), pathlib.Path(sys.argv[2])
def get(sock, path):
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0].split(b":")[1])
    while len(body) < length:
        body += sock.recv(65536)
    return head.split(b" ")[1].decode()
first = socket.create_connection(("127.0.0.1", port), timeout=20)
assert get(first, "/healthz") == "200"
# Then far more connections than the daemon has descriptors; the kernel queues them.
flood = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(150)]
(work / "flooded").touch()
while not (work / "release").exists():
    time.sleep(0.05)
(work / "kept").write_text(get(first, "/healthz"))
for s in flood:
    s.close()
(work / "released").touch()
time.sleep(60)
PY
holder=$!
wait_until 30 "the connection flood" test -e "$work/flooded"
failures() { grep -ci "accept.*fail" "$work/daemon.log" || true; }
wait_until 30 "an accept to fail for lack of descriptors" test "$(failures)" -ge 1
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }  # clock ticks of user + system time
ticks=$(getconf CLK_TCK)
before=$(cpu)
sleep 2  # a window to measure in, not a wait for an event
after=$(cpu)
(( after - before < ticks )) || fail "the daemon used $(( (after - before) * 100 / ticks ))% of a core out of descriptors"
(( $(failures) <= 2 )) || fail "$(failures) log lines about failed accepts in a few seconds"
kill -0 "$pid" || fail "the daemon died"

touch "$work/release"
wait_until 30 "the flood to be closed" test -e "$work/released"
[[ $(cat "$work/kept") == 200 ]] || fail "a connection open before the exhaustion was not served: $(cat "$work/kept")"
healthy() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz"; }
wait_until 30 "the daemon to accept again" healthy
curl -fsS "http://127.0.0.1:$port/metrics" > "$work/metrics"
grep -Eq '^loopvisor_admin_accept_errors_total\{reason="out_of_descriptors"\} [1-9]' "$work/metrics" ||
  fail "accept errors not counted: $(grep accept_errors "$work/metrics")"
echo "fd exhaustion test passed"
