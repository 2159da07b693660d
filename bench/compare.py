#!/usr/bin/env python3
"""Runs W1-W6 (docs/benchmarks.md) for loopvisor and its peers in the same run and prints
median[min..max] per workload, implementation and pinning, then loopvisor's ratio to the best
peer. Each measurement is its own process; rounds interleave the implementations (the order
rotates every round) so that a noisy neighbour hits them all alike. Timing never gates a test.

Usage: compare.py --peers DIR [--rounds N] [--workloads W1,W3] [--impls loopvisor,asio]
DIR holds loopvisor_peer, asio_peer, libuv_peer and tokio_peer (bench/compare.sh builds them).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's, where python3-uvloop is installed

ALL = ("W1", "W2", "W3", "W4", "W5", "W6")
PINNED = ("W1", "W2", "W3", "W6")  # also run @cross and @cpu0
# Which way is better for each reported key.
HIGHER_IS_BETTER = {"callbacks_per_s", "tasks_per_s"}
HEADLINE = {"W1": "callbacks_per_s", "W2": "callbacks_per_s", "W3": "p50_us", "W4": "tasks_per_s",
            "W5": "bytes_per_task", "W6": "rt_us"}


def implementations(peers):
    """name -> (command prefix, workloads it implements)."""
    py = [PYTHON, os.path.join(HERE, "peers", "asyncio_peer.py")]
    return {
        "loopvisor": ([os.path.join(peers, "loopvisor_peer"), "loopvisor"], ALL),
        "loopvisor+spin50": ([os.path.join(peers, "loopvisor_peer"), "loopvisor+spin50"], ("W3", "W6")),
        # Slow-callback detection off: the cost of the diagnostics (issue 11: at most 3 %).
        "loopvisor-nodiag": ([os.path.join(peers, "loopvisor_peer"), "loopvisor-nodiag"], ("W1", "W4")),
        "asio": ([os.path.join(peers, "asio_peer"), "asio"], ALL),
        "libuv": ([os.path.join(peers, "libuv_peer"), "libuv"], ("W1", "W2", "W3", "W5", "W6")),
        "tokio-ct": ([os.path.join(peers, "tokio_peer"), "tokio-ct"], ALL),
        "tokio-mt1": ([os.path.join(peers, "tokio_peer"), "tokio-mt1"], ALL),
        "asyncio": (py + ["asyncio"], ALL),
        "uvloop": (py + ["uvloop"], ALL),
    }


def first_cpu():
    return str(min(os.sched_getaffinity(0)))


def measure(prefix, workload, pinning):
    """Runs one measurement; returns {key: value} or raises RuntimeError naming the failure."""
    cmd = prefix + [workload, pinning]
    if pinning == "cpu0":
        cmd = ["taskset", "-c", first_cpu()] + cmd
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"{' '.join(cmd)}: no result within 300 s") from e
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr.strip()[-300:]}")
    line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    fields = dict(re.findall(r"(\w+)=([0-9.]+)", line))
    if not line.startswith(workload) or not fields:
        raise RuntimeError(f"{' '.join(cmd)}: unexpected output {line!r}")
    return {k: float(v) for k, v in fields.items()}


def fmt(values):
    med = statistics.median(values)
    digits = 0 if med >= 100 else 2
    return f"{med:.{digits}f}[{min(values):.{digits}f}..{max(values):.{digits}f}]"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", required=True, help="directory of the built peer programs")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workloads", default=",".join(ALL))
    ap.add_argument("--impls", default="", help="comma-separated subset (default: all)")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    impls = implementations(args.peers)
    if args.impls:
        unknown = set(args.impls.split(",")) - set(impls)
        if unknown:
            ap.error(f"unknown implementation(s): {', '.join(sorted(unknown))}; known: {', '.join(impls)}")
        impls = {k: v for k, v in impls.items() if k in args.impls.split(",")}
    workloads = args.workloads.split(",")
    bad = set(workloads) - set(ALL)
    if bad:
        ap.error(f"unknown workload(s): {', '.join(sorted(bad))}")
    cells = []  # (workload, pinning)
    for w in workloads:
        cells.append((w, "none"))
        if w in PINNED:
            cells += [(w, "cross"), (w, "cpu0")]

    results = {}  # (workload, pinning, impl) -> {key: [values]}
    failures = []
    for r in range(args.rounds):
        for workload, pinning in cells:
            names = [n for n, (_, ws) in impls.items() if workload in ws]
            shift = r % len(names) if names else 0
            for name in names[shift:] + names[:shift]:
                try:
                    got = measure(impls[name][0], workload, pinning)
                except RuntimeError as e:
                    failures.append(str(e))
                    print(f"round {r + 1}: {e}", file=sys.stderr)
                    continue
                slot = results.setdefault((workload, pinning, name), {})
                for k, v in got.items():
                    slot.setdefault(k, []).append(v)
        print(f"round {r + 1} of {args.rounds} done", file=sys.stderr)

    for workload, pinning in cells:
        suffix = "" if pinning == "none" else f"@{pinning}"
        headline = {}
        for name in impls:
            slot = results.get((workload, pinning, name))
            if not slot:
                continue
            print(f"{workload} {name}{suffix} " + " ".join(f"{k}={fmt(v)}" for k, v in slot.items()))
            headline[name] = statistics.median(slot[HEADLINE[workload]])
        ours = headline.get("loopvisor")
        # libuv's W5 is a bare timer per sleeper, not a task: shown, but not a peer to beat.
        peers = {n: v for n, v in headline.items()
                 if not n.startswith("loopvisor") and not (workload == "W5" and n == "libuv")}
        if ours and peers:
            key = HEADLINE[workload]
            if key in HIGHER_IS_BETTER:
                best = max(peers, key=peers.get)
                ratio = ours / peers[best]
            else:
                best = min(peers, key=peers.get)
                ratio = peers[best] / ours
            print(f"{workload}{suffix} loopvisor/best {key}: {ratio:.2f} (best peer {best}; above 1: loopvisor ahead)")
        if ours and headline.get("loopvisor-nodiag"):
            cost = 1 - ours / headline["loopvisor-nodiag"]
            print(f"{workload}{suffix} diagnostics cost: {cost * 100:.1f} % of {HEADLINE[workload]} (loopvisor vs loopvisor-nodiag)")
    if failures:
        print(f"{len(failures)} measurement(s) failed; see above", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
