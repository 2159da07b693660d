#!/usr/bin/env python3
"""Soak test of loopvisord (by hand, not in CI): runs the daemon under mixed load on loopback
for a given time, samples its RSS, descriptors and threads every second, and fails on growth
that does not level off.

Load, all bounded and on 127.0.0.1 only: job create / wait / delete (sleep and exec jobs with
output), job listings, /metrics scrapes, health probes, idle keep-alive connections and slow
clients that send their header a byte at a time.

    tests/soak/soak.py --seconds 600 [--daemon build/release/service/loopvisord]

Exit 0 and a summary when memory, descriptors and threads stayed bounded; 1 otherwise.
"""
import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time


def sample(pid):
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    rss_kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss_kb, fds, threads


class Load:
    def __init__(self, port, deadline):
        self.port = port
        self.deadline = deadline
        self.counts = {}
        self.errors = {}
        self.lock = threading.Lock()

    def count(self, what, ok=True):
        with self.lock:
            table = self.counts if ok else self.errors
            table[what] = table.get(what, 0) + 1

    def request(self, method, path, body=None, timeout=15):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            res = conn.getresponse()
            return res.status, res.read()
        finally:
            conn.close()

    def jobs(self):
        rng = random.Random()
        while time.time() < self.deadline:
            try:
                if rng.random() < 0.5:
                    spec = {"kind": "sleep", "args": {"duration_ms": rng.randint(0, 50)}}
                else:
                    spec = {"kind": "exec", "args": {"argv": ["/bin/sh", "-c", "head -c %d /dev/zero | tr '\\0' x; echo"
                                                            % rng.randint(0, 100000)]}}
                status, body = self.request("POST", "/v1/jobs", json.dumps(spec))
                if status == 429:
                    self.count("jobs refused (429)")
                    time.sleep(0.05)
                    continue
                if status != 202:
                    self.count(f"job POST {status}", ok=False)
                    continue
                job = json.loads(body)["id"]
                status, body = self.request("GET", f"/v1/jobs/{job}?wait_ms=10000")
                state = json.loads(body)["state"] if status == 200 else f"GET {status}"
                self.count(f"job {state}", ok=state == "succeeded")
                if rng.random() < 0.7:
                    status, _ = self.request("DELETE", f"/v1/jobs/{job}")
                    self.count("job forgotten", ok=status == 200)
            except (OSError, ValueError, KeyError) as e:
                self.count(f"jobs: {type(e).__name__}", ok=False)

    def reads(self):
        while time.time() < self.deadline:
            for path in ("/metrics", "/healthz", "/readyz", "/v1/jobs?limit=1000", "/debug/loops"):
                try:
                    status, _ = self.request("GET", path)
                    self.count(f"GET {path.split('?')[0]}", ok=status == 200)
                except OSError as e:
                    self.count(f"GET {path}: {type(e).__name__}", ok=False)
            time.sleep(0.1)

    def idle_and_slow(self):
        rng = random.Random()
        while time.time() < self.deadline:
            socks = []
            try:
                for _ in range(20):  # idle keep-alive connections
                    s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: soak\r\n\r\n")
                    s.recv(4096)
                    socks.append(s)
                slow = socket.create_connection(("127.0.0.1", self.port), timeout=10)
                socks.append(slow)
                for ch in b"GET /healthz HTTP/1.1\r\nHost: soak\r\n":  # a byte at a time
                    if time.time() >= self.deadline:
                        break
                    slow.send(bytes([ch]))
                    time.sleep(rng.uniform(0.01, 0.05))
                self.count("idle and slow rounds")
            except OSError as e:
                self.count(f"idle/slow: {type(e).__name__}", ok=False)
            finally:
                for s in socks:
                    s.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--daemon", default=os.path.join(os.path.dirname(__file__), "../../build/release/service/loopvisord"))
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="lv-soak-")
    log = open(os.path.join(work, "daemon.log"), "w")
    daemon = subprocess.Popen([args.daemon, "--loops", "2", "--admin-listen", "127.0.0.1:0", "--jobs-exec-allow", "/bin/sh",
                               "--jobs-max-finished", "500"], stdout=log, stderr=log)
    try:
        port = None
        for _ in range(300):
            with open(os.path.join(work, "daemon.log")) as f:
                m = re.search(r"admin: listening on 127\.0\.0\.1:(\d+)", f.read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.1)
        if port is None:
            print("soak: the daemon did not listen", file=sys.stderr)
            return 1
        start = time.time()
        deadline = start + args.seconds
        load = Load(port, deadline)
        workers = [threading.Thread(target=load.jobs) for _ in range(4)]
        workers += [threading.Thread(target=load.reads), threading.Thread(target=load.idle_and_slow)]
        for w in workers:
            w.start()
        samples = []
        while time.time() < deadline:
            if daemon.poll() is not None:
                print(f"soak: the daemon exited with {daemon.returncode}", file=sys.stderr)
                return 1
            samples.append((time.time() - start, *sample(daemon.pid)))
            time.sleep(1)
        for w in workers:
            w.join()
        # Bounded means: the last quarter is no higher than the second quarter plus slack
        # (warm-up, allocator caches); steady growth fails.
        n = len(samples)
        quarter = max(1, n // 4)
        second = samples[quarter:2 * quarter] or samples
        last = samples[-quarter:]
        verdicts = []
        for i, (name, slack) in enumerate((("rss_kb", 32 * 1024), ("fds", 16), ("threads", 2)), start=1):
            ref = max(s[i] for s in second)
            top = max(s[i] for s in last)
            ok = top <= ref * 1.2 + slack
            verdicts.append(ok)
            print(f"soak: {name}: start {samples[0][i]}, second quarter max {ref}, last quarter max {top} "
                  f"-> {'bounded' if ok else 'GROWING'}")
        print(f"soak: {args.seconds} s, {n} samples; requests: {json.dumps(load.counts, sort_keys=True)}")
        if load.errors:
            print(f"soak: failures: {json.dumps(load.errors, sort_keys=True)}")
        return 0 if all(verdicts) and not load.errors.get("jobs: ConnectionRefusedError") else 1
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()


if __name__ == "__main__":
    sys.exit(main())
