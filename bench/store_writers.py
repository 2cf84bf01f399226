"""Benchmark: write transactions from several processes on one SQLite store, with and without
the writers' ``flock`` queue (``leds.store.sqlite``); prints commits/s and commit latency.

    python bench/store_writers.py                       # 2 processes x 4 threads, 6 s each way
    python bench/store_writers.py --processes 4 --threads 8 --seconds 10

Each thread loops ``with store.transaction(): INSERT one row`` (what an audit group commit is,
minus the log). Without the queue, a writer that finds the database locked polls with SQLite's
sleeps (1, 2, 5 ... 100 ms) and can miss the lock many times running while the others keep
taking it: the median is low and the maximum is seconds. With it, the kernel hands the lock
to the next waiter at once: the maximum stays near the median. Server processes
(``leds serve --workers N``) commit audit entries exactly like this.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any


def writer(data: str, queued: bool, threads: int, seconds: float, out: Any) -> None:
    from sqlalchemy import text

    from leds.store import open_store

    store = open_store(data)
    if not queued:
        store._writer = nullcontext  # type: ignore[method-assign]  # SQLite's own waits only
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def run() -> None:
        mine = []
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            with store.transaction() as conn:
                conn.execute(text("INSERT INTO bench_rows VALUES (1)"))
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    store.close()
    out.put(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    from sqlalchemy import text

    from leds.store import open_store

    context = mp.get_context("spawn")
    for queued in (False, True):
        with tempfile.TemporaryDirectory(prefix="leds-bench-writers-") as data:
            store = open_store(Path(data))  # migrated once, before the writers start
            with store.transaction() as conn:
                conn.execute(text("CREATE TABLE bench_rows (x INTEGER)"))
            store.close()
            out = context.Queue()
            procs = [
                context.Process(target=writer, args=(data, queued, args.threads, args.seconds, out))
                for _ in range(args.processes)
            ]
            for p in procs:
                p.start()
            ms = sorted(x * 1000 for _ in procs for x in out.get())
            for p in procs:
                p.join()
        n = len(ms)
        print(
            f"{'flock queue' if queued else 'SQLite waits only'}: {args.processes} processes x "
            f"{args.threads} threads: {n / args.seconds:,.0f} commits/s; commit ms p50 "
            f"{ms[n // 2]:.2f}  p99 {ms[int(n * 0.99)]:.2f}  max {ms[-1]:.1f}"
        )


if __name__ == "__main__":
    main()
