"""Benchmark: audited person searches (or record reads) over HTTP, from a second process on
loopback; prints figures.

    python bench/api.py                          # person searches, 5,000-person world, 8 threads
    python bench/api.py --persons 50000 --threads 16 --seconds 60
    python bench/api.py --reads                  # audited record reads instead of searches
    python bench/api.py --data /tmp/api1m --persons 1000000   # keep (and reuse) the world

Builds a synthetic world (``leds.synth``), imports its PNC extract through the one door,
creates an API token for a constable, then serves ``leds.api.create_app`` with uvicorn in a
**separate process** and, from N client threads each with its own keep-alive connection, runs
person searches (``GET /api/v1/search/persons?surname&forenames&year``: a true person's name
with the year of birth, one in five with a one-letter typo in the surname) or, with
``--reads``, reads random PNC person records (``GET /api/v1/records/pnc/person/{id}``).
Prints throughput, latency p50/p95/p99 and the audit check: after the run, every 200
response's ``audit_seq`` must be a distinct entry of the expected operation, by that user, for
that request, and the log must have grown by exactly one entry per request (0 responses
without an audit entry, 0 entries without a response). Issue #7's target for person searches
on the 1M-person world: >= 1,000/s, p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import Progress

from leds.governance.identity import PurposeStatement
from leds.service import NewAccount, Service
from leds.store import open_store

console = Console()
PASSWORD = "bench password for the api run"
SETUP = PurposeStatement.of("admin-process", "setting up the api benchmark")
HEADERS = {
    "X-Leds-Purpose": "crime",
    "X-Leds-Justification": "benchmark of audited record reads",
    "X-Leds-Case": "BENCH-0001",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(data: Path, persons: int, seed: int) -> tuple[str, list[str]]:
    """World, accounts, PNC import, a constable's token; returns (token, person record ids).
    A ``data`` folder prepared by an earlier run is reused (a new token is issued)."""
    from leds.synth import generate_world

    world = data / "world"
    if (data / "bench-ready").exists():
        service = Service.open(data)
        try:
            token = service.create_token(service.login("bench-pc", PASSWORD), SETUP, "bench").value
        finally:
            service.close()
        return token, _pnc_person_ids(world)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("generating persons", total=persons)
        generate_world(world, persons, seed, progress=lambda n: bar.advance(task, n))
    service = Service.open(data)
    try:
        year = date.today() + timedelta(days=365)

        def account(uid: str, role: str, org: str) -> NewAccount:
            return NewAccount(uid, uid, role, org, "bench", PASSWORD, year, year)

        service.add_account(None, SETUP, account("bench-admin", "administrator", "LEDS"))
        admin = service.login("bench-admin", PASSWORD)
        service.add_account(admin, SETUP, account("bench-steward", "data-steward", "LEDS"))
        service.add_account(admin, SETUP, account("bench-pc", "constable", "WYP"))
        steward = service.login("bench-steward", PASSWORD)
        started = time.perf_counter()
        summary = service.import_source(steward, SETUP, "pnc", world / "pnc").value
        console.print(
            f"imported pnc: {summary.inserted:,} records in {time.perf_counter() - started:.1f} s"
        )
        token = service.create_token(service.login("bench-pc", PASSWORD), SETUP, "bench").value
    finally:
        service.close()
    (data / "bench-ready").touch()
    return token, _pnc_person_ids(world)


def _pnc_person_ids(world: Path) -> list[str]:
    ids: list[str] = []
    for path in sorted((world / "truth").glob("truth-*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            ids.extend(
                r["source_record_id"]
                for r in csv.DictReader(f)
                if r["source"] == "pnc" and r["kind"] == "person"
            )
    if not ids:
        raise SystemExit("the world has no PNC person records")
    return ids


def search_queries(data: Path, n: int, seed: int) -> list[dict[str, str]]:
    """``n`` person searches from indexed PNC nominals (the bench reads its own store to make
    them): surname, first forename and year of birth; one in five with a surname typo."""
    from sqlalchemy import text

    rng = random.Random(seed)
    store = open_store(str(data))
    try:
        with store.engine.connect() as conn:
            top = conn.execute(text("SELECT max(owner_id) FROM search_person_rows")).scalar()
            rows: list[tuple[str, str, int]] = []
            while len(rows) < n and top:
                got = conn.execute(
                    text(
                        "SELECT surname, forenames, yob FROM search_person_rows "
                        "WHERE owner_id >= :a AND surname IS NOT NULL AND forenames IS NOT NULL "
                        "AND yob > 0 LIMIT 1"
                    ),
                    {"a": rng.randint(1, int(top))},
                ).first()
                if got:
                    rows.append((str(got[0]), str(got[1]), int(got[2])))
    finally:
        store.close()
    out = []
    for surname, forenames, yob in rows:
        if rng.random() < 0.2 and len(surname) > 3:
            i = rng.randrange(1, len(surname) - 1)
            surname = surname[:i] + surname[i + 1] + surname[i] + surname[i + 2 :]
        out.append({"surname": surname, "forenames": forenames.split()[0], "year": str(yob)})
    return out


def serve(data: Path, port: int) -> None:
    """The server process (``--serve``)."""
    from leds.api import serve as run

    run(data, None, "127.0.0.1", port, access_log=False)


def head_seq(data: Path) -> int:
    store = open_store(str(data))  # the check reads the log itself, not through the server
    try:
        last = 0
        while batch := store.audit_entries(last, 10_000):
            last = batch[-1].seq
        return last
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--data", type=Path, help="keep the world here (default: a temp dir)")
    parser.add_argument("--reads", action="store_true", help="record reads, not searches")
    parser.add_argument("--serve", nargs=2, metavar=("DATA", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return

    data = args.data or Path(tempfile.mkdtemp(prefix="leds-bench-api-"))
    token, ids = prepare(data, args.persons, args.seed)
    queries = [] if args.reads else search_queries(data, 2_000, args.seed)
    before = head_seq(data)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(data), str(port)],
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        latencies: list[float] = []
        seqs: list[tuple[int, str]] = []
        operation = "view_record" if args.reads else "search_person"
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        stop_at = time.perf_counter() + args.seconds

        def client(worker: int) -> None:
            rng = random.Random(worker)
            mine: list[float] = []
            got: list[tuple[int, str]] = []
            codes: dict[int, int] = {}
            headers = {"Authorization": f"Bearer {token}", **HEADERS}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                while time.perf_counter() < stop_at:
                    if args.reads:
                        key = rng.choice(ids)
                        t0 = time.perf_counter()
                        r = http.get(f"/api/v1/records/pnc/person/{key}")
                    else:
                        params = rng.choice(queries)
                        key = params["surname"]
                        t0 = time.perf_counter()
                        r = http.get("/api/v1/search/persons", params=params)
                    mine.append(time.perf_counter() - t0)
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1
                    if r.status_code == 200:
                        got.append((r.json()["audit_seq"], key))
            with lock:
                latencies.extend(mine)
                seqs.extend(got)
                for k, v in codes.items():
                    statuses[k] = statuses.get(k, 0) + v

        what = "reading random PNC person records" if args.reads else "searching persons"
        console.print(
            f"{what} over HTTP: {args.threads} client threads, "
            f"{args.seconds:.0f} s, world of {args.persons:,} persons ({len(ids):,} PNC persons)"
        )
        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    n = len(latencies)
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100)
    console.print(f"requests: {n:,}  statuses: {dict(sorted(statuses.items()))}")
    console.print(
        f"throughput: {n / elapsed:,.0f} audited {'reads' if args.reads else 'searches'}/s"
    )
    console.print(
        f"latency ms: p50 {q[49]:.1f}  p95 {q[94]:.1f}  p99 {q[98]:.1f}  max {ms[-1]:.1f}"
    )

    # The audit check: every response names its own entry; the log grew by exactly n.
    store = open_store(str(data))
    try:
        entries = {}
        last = before
        while batch := store.audit_entries(last, 10_000):
            entries.update({e.seq: e for e in batch})
            last = batch[-1].seq
    finally:
        store.close()
    by_seq = dict(seqs)
    missing = [s for s in by_seq if s not in entries]
    wrong = [
        s
        for s, rid in by_seq.items()
        if s in entries
        and (
            entries[s].operation != operation
            or entries[s].actor_id != "bench-pc"
            or entries[s].query.get("id" if args.reads else "surname") != rid
        )
    ]
    duplicates = len(seqs) - len(by_seq)
    console.print(
        f"audit: {len(entries):,} new entries for {n:,} requests; responses without an entry: "
        f"{len(missing)}; entries not matching their response: {len(wrong)}; "
        f"reused sequence numbers: {duplicates}"
    )
    ok = not missing and not wrong and not duplicates and len(entries) == n
    console.print("[bold green]audit check passed[/]" if ok else "[bold red]AUDIT CHECK FAILED[/]")
    if args.data is None:
        shutil.rmtree(data, ignore_errors=True)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
