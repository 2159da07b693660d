#!/usr/bin/env python3
"""Turns one run's Google Benchmark JSON and peer JSON lines into a ratio table."""
import json
import re
import sys

WORKLOADS = {
    "W1": ("BM_W1_loopvisor_call_soon_threadsafe/real_time/threads:1", "BM_W1_asio_post/real_time/threads:1"),
    "W2": ("BM_W1_loopvisor_call_soon_threadsafe/real_time/threads:2", "BM_W1_asio_post/real_time/threads:2"),
    "W3": ("BM_W3_loopvisor_run_coroutine_threadsafe/real_time", "BM_W3_asio_co_spawn_use_future/real_time"),
    "W4": ("BM_W4_loopvisor_create_task/100000/real_time", "BM_W4_asio_co_spawn/100000/real_time"),
    "W6": ("BM_W6_loopvisor_round_trip/real_time", "BM_W6_asio_round_trip/real_time"),
}


def main(cpp_path, peers_path):
    with open(cpp_path) as f:
        rates = {b["name"]: b.get("items_per_second") for b in json.load(f)["benchmarks"]}
    peers = {}
    with open(peers_path) as f:
        for line in f:
            row = json.loads(line)
            peers.setdefault(row["workload"], {})[row["peer"]] = row["items_per_second"]
    print(f"{'workload':8} {'loopvisor/s':>14} {'vs asio':>9} {'vs asyncio':>11} {'vs uvloop':>10}")
    for workload, (ours, asio) in WORKLOADS.items():
        mine = rates.get(ours)
        if not mine:
            continue
        cells = [f"{mine:14.0f}"]
        base = rates.get(asio)
        cells.append(f"{mine / base:9.2f}" if base else f"{'-':>9}")
        for peer, width in (("asyncio", 11), ("uvloop", 10)):
            other = peers.get(workload, {}).get(peer)
            cells.append(f"{mine / other:{width}.2f}" if other else f"{'-':>{width}}")
        print(f"{workload:8} " + " ".join(cells))


if __name__ == "__main__":
    main(*sys.argv[1:3])
