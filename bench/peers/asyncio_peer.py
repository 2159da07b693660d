#!/usr/bin/env python3
"""Python asyncio and uvloop on W1-W6 for bench/compare.py.

Usage: asyncio_peer.py asyncio|uvloop W1..W6 none|cross|cpu0. Prints one line in the format
of the C++ peers. Counts are smaller than theirs (Python is slower); rates are what compare.
"""
import asyncio
import os
import sys
import threading
import time

W1_ITEMS = 400_000
W3_ROUND_TRIPS = 5_000
W4_TASKS = 100_000
W5_TASKS = 100_000
W5_SLEEP_S = 2.0
W6_ROUND_TRIPS = 5_000


def pin_self(cross, index):
    """Pins the calling thread to the index-th allowed CPU when cross pinning is on."""
    if not cross:
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        sys.exit("cross pinning needs two CPUs")
    os.sched_setaffinity(0, {cpus[index % len(cpus)]})


def start_loop(new_loop, cross, cpu):
    loop = new_loop()
    ready = threading.Event()

    def run():
        pin_self(cross, cpu)
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    return loop, thread


def stop_loop(loop, thread):
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


def latency_line(workload, impl, key, samples):
    samples.sort()

    def at(q):
        return samples[min(len(samples) - 1, int(q * len(samples)))]

    return f"{workload} {impl} {key}={at(0.5):.2f} p99_us={at(0.99):.2f} p999_us={at(0.999):.2f}"


def callbacks(impl, new_loop, workload, producers, cross):
    loop, thread = start_loop(new_loop, cross, 1)
    per = W1_ITEMS // producers
    done = threading.Event()
    count = [0]

    def one():
        count[0] += 1
        if count[0] == per * producers:
            done.set()

    def produce():
        pin_self(cross, 0)
        for _ in range(per):
            loop.call_soon_threadsafe(one)

    start = time.perf_counter()
    workers = [threading.Thread(target=produce) for _ in range(producers)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    done.wait(120)
    elapsed = time.perf_counter() - start
    stop_loop(loop, thread)
    return f"{workload} {impl} callbacks_per_s={per * producers / elapsed:.0f}"


async def answer():
    return 42


def round_trips_from_thread(impl, new_loop, cross):
    loop, thread = start_loop(new_loop, cross, 1)
    pin_self(cross, 0)
    samples = []
    for _ in range(W3_ROUND_TRIPS):
        t0 = time.perf_counter()
        assert asyncio.run_coroutine_threadsafe(answer(), loop).result(10) == 42
        samples.append((time.perf_counter() - t0) * 1e6)
    stop_loop(loop, thread)
    return latency_line("W3", impl, "p50_us", samples)


def spawn(impl, new_loop):
    async def main():
        tasks = [asyncio.ensure_future(answer()) for _ in range(W4_TASKS)]
        for t in tasks:
            await t

    loop = new_loop()
    start = time.perf_counter()
    loop.run_until_complete(main())
    elapsed = time.perf_counter() - start
    loop.close()
    return f"W4 {impl} tasks_per_s={W4_TASKS / elapsed:.0f}"


def resident_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def sleepers(impl, new_loop):
    async def main(before):
        tasks = [asyncio.ensure_future(asyncio.sleep(W5_SLEEP_S)) for _ in range(W5_TASKS)]
        await asyncio.sleep(0)  # every task has started and sleeps
        per_task = (resident_bytes() - before) // W5_TASKS
        for t in tasks:
            await t
        return per_task

    loop = new_loop()
    before = resident_bytes()
    start = time.perf_counter()
    per_task = loop.run_until_complete(main(before))
    elapsed = time.perf_counter() - start
    loop.close()
    return f"W5 {impl} bytes_per_task={per_task} wall_s={elapsed:.3f}"


def round_trips_between_loops(impl, new_loop, cross):
    first, first_thread = start_loop(new_loop, cross, 0)
    second, second_thread = start_loop(new_loop, cross, 1)

    async def one():
        return 1

    async def hops():
        samples = []
        for _ in range(W6_ROUND_TRIPS):
            t0 = time.perf_counter()
            assert await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(one(), second)) == 1
            samples.append((time.perf_counter() - t0) * 1e6)
        return samples

    samples = asyncio.run_coroutine_threadsafe(hops(), first).result(300)
    stop_loop(first, first_thread)
    stop_loop(second, second_thread)
    return latency_line("W6", impl, "rt_us", samples)


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("asyncio", "uvloop"):
        sys.exit("usage: asyncio_peer.py asyncio|uvloop W1..W6 none|cross|cpu0")
    impl, workload, cross = sys.argv[1], sys.argv[2], sys.argv[3] == "cross"
    if impl == "uvloop":
        import uvloop  # noqa: PLC0415 - only this peer needs it

        new_loop = uvloop.new_event_loop
    else:
        new_loop = asyncio.new_event_loop
    runs = {
        "W1": lambda: callbacks(impl, new_loop, "W1", 1, cross),
        "W2": lambda: callbacks(impl, new_loop, "W2", 2, cross),
        "W3": lambda: round_trips_from_thread(impl, new_loop, cross),
        "W4": lambda: spawn(impl, new_loop),
        "W5": lambda: sleepers(impl, new_loop),
        "W6": lambda: round_trips_between_loops(impl, new_loop, cross),
    }
    if workload not in runs:
        sys.exit(f"unknown workload {workload}")
    print(runs[workload]())


if __name__ == "__main__":
    main()
