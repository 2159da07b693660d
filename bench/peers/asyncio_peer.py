#!/usr/bin/env python3
"""Python asyncio (and uvloop, when installed) on the workloads of docs/benchmarks.md, for ratio reports.

Prints one JSON object per line: {"peer": ..., "workload": ..., "items_per_second": ...}.
Counts are smaller than the C++ runs (Python is slower); rates are what get compared.
"""
import asyncio
import json
import sys
import threading
import time


def run_in_thread(loop):
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    return thread


def w1_call_soon_threadsafe(new_loop, n, producers):
    loop = new_loop()
    thread = run_in_thread(loop)
    done = threading.Event()
    count = [0]

    def noop():
        count[0] += 1
        if count[0] == n * producers:
            done.set()

    def produce():
        for _ in range(n):
            loop.call_soon_threadsafe(noop)

    start = time.perf_counter()
    workers = [threading.Thread(target=produce) for _ in range(producers)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start  # submission rate, as the C++ benchmark measures
    done.wait(60)
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()
    return n * producers / elapsed


async def answer():
    return 42


def w3_run_coroutine_threadsafe(new_loop, n):
    loop = new_loop()
    thread = run_in_thread(loop)
    start = time.perf_counter()
    for _ in range(n):
        asyncio.run_coroutine_threadsafe(answer(), loop).result(10)
    elapsed = time.perf_counter() - start
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()
    return n / elapsed


def w4_create_task(new_loop, n):
    async def main():
        tasks = [asyncio.ensure_future(answer()) for _ in range(n)]
        for t in tasks:
            await t

    loop = new_loop()
    start = time.perf_counter()
    loop.run_until_complete(main())
    elapsed = time.perf_counter() - start
    loop.close()
    return n / elapsed


def w6_round_trip(new_loop, n):
    loop_b = new_loop()
    thread_b = run_in_thread(loop_b)

    async def one():
        return 1

    async def hops():
        for _ in range(n):
            await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(one(), loop_b))

    loop_a = new_loop()
    start = time.perf_counter()
    loop_a.run_until_complete(hops())
    elapsed = time.perf_counter() - start
    loop_a.close()
    loop_b.call_soon_threadsafe(loop_b.stop)
    thread_b.join()
    loop_b.close()
    return n / elapsed


def main():
    peers = {"asyncio": asyncio.new_event_loop}
    try:
        import uvloop  # noqa: PLC0415 - optional peer

        peers["uvloop"] = uvloop.new_event_loop
    except ImportError:
        print("uvloop not installed: only asyncio is measured", file=sys.stderr)
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    for name, factory in peers.items():
        results = {
            "W1": w1_call_soon_threadsafe(factory, int(200_000 * scale), 1),
            "W2": w1_call_soon_threadsafe(factory, int(100_000 * scale), 2),
            "W3": w3_run_coroutine_threadsafe(factory, int(20_000 * scale)),
            "W4": w4_create_task(factory, int(100_000 * scale)),
            "W6": w6_round_trip(factory, int(10_000 * scale)),
        }
        for workload, rate in results.items():
            print(json.dumps({"peer": name, "workload": workload, "items_per_second": rate}))


if __name__ == "__main__":
    main()
